using ILGPU;
using ILGPU.Runtime;
using IlgpuVae.Compute;
using IlgpuVae.Data;

namespace IlgpuVae.Training;

/// <summary>An MNIST set resident on the device as bytes (47 MB for the training images) with its labels.</summary>
public sealed class DeviceDataset : IDisposable
{
    private readonly MemoryBuffer1D<byte, Stride1D.Dense> _images, _labels;

    /// <summary>Uploads <paramref name="set"/> once.</summary>
    /// <param name="device">The device.</param>
    /// <param name="set">The images and labels.</param>
    public DeviceDataset(ComputeDevice device, MnistSet set)
    {
        Count = set.Count;
        Features = set.PixelsPerImage;
        _images = device.Upload<byte>(set.Images);
        _labels = device.Upload<byte>(set.Labels);
        HostLabels = set.Labels;
    }

    /// <summary>Images.</summary>
    public int Count { get; }

    /// <summary>Pixels per image (D).</summary>
    public int Features { get; }

    /// <summary>The images as bytes (N, D).</summary>
    public ArrayView<byte> Images => _images.View.BaseView;

    /// <summary>The labels (N).</summary>
    public ArrayView<byte> Labels => _labels.View.BaseView;

    /// <summary>The labels on the host.</summary>
    public byte[] HostLabels { get; }

    /// <inheritdoc />
    public void Dispose()
    {
        _images.Dispose();
        _labels.Dispose();
    }
}
