using Xunit;

namespace IlgpuVae.Tests.Compute;

/// <summary>
/// Tests that use <see cref="OpsHarness"/>'s shared devices run one at a time: a device and its ops serve one
/// thread at a time, like an ILGPU accelerator stream.
/// </summary>
[CollectionDefinition(Name)]
public sealed class SharedDevices
{
    public const string Name = "shared devices";
}
