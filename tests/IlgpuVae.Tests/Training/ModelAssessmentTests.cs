using IlgpuVae.Tests.Data;
using IlgpuVae.Training;
using Xunit;
using Xunit.Abstractions;
using IlgpuVae.Models;

namespace IlgpuVae.Tests.Training;

public sealed class ModelAssessmentTests(TrainedModelFixture fixture, ITestOutputHelper output) : IClassFixture<TrainedModelFixture>
{
    [MnistFact]
    public void LatentMeans_BatchedOnTheDevice_EqualVaeModelEncode()
    {
        var set = fixture.Data!.Test.Take(700);
        using var device = new DeviceDataset(fixture.Device!, set);
        var means = LatentCodes.Means(fixture.Model!.Network, device);
        var images = set.Images.Select(b => b / 255f).ToArray();
        var (mu, _) = fixture.Model.Encode(images);
        Assert.Equal(700 * 4, means.Length);
        // The device scales bytes by a multiplication with 1/255, the host here divides: rounding differs slightly.
        for (int i = 0; i < mu.Length; i++)
            Assert.Equal(mu[i], means[i], 1e-4f);
        Assert.Equal(set.Labels.Select(l => (int)l), LatentCodes.Labels(device));
    }

    [MnistFact]
    public void Run_TrainedModel_ReportsConsistentFigures()
    {
        var result = ModelAssessment.Run(fixture.Model!, fixture.Data!, importanceSamples: 10, seed: 2);
        output.WriteLine($"{result.Elbo} {result.LogLikelihood} {result.Clustering}");
        Assert.Equal(result.Elbo.Reconstruction!.Value + result.Elbo.Kl!.Value, result.Elbo.Loss, 9);
        Assert.True(result.LogLikelihood!.Value > -result.Elbo.Loss);
        Assert.Equal((10, 1000), (result.ImportanceSamples, result.Elbo.Count));
        // The importance-weighted figure is the one the model's own estimate gives with the same K and seed.
        Assert.Equal(fixture.Model!.EstimateLogLikelihood(fixture.Data!.Test, 10, 2), result.LogLikelihood.Value);
        var clustering = result.Clustering!;
        // A 3-epoch, 4-D model already separates digits far beyond chance (0.1) by its neighbours.
        Assert.InRange(clustering.KnnAccuracy, 0.5, 1);
        Assert.InRange(clustering.KMeansNmi, 0.1, 1);
        Assert.InRange(clustering.KMeansAccuracy, 0.2, 1);
        Assert.Equal((ModelAssessment.KnnNeighbours, ModelAssessment.KMeansClusters, ModelAssessment.KMeansRestarts),
            (clustering.KnnK, clustering.Clusters, clustering.Restarts));
        Assert.Equal(1000 * 4, result.TestMeans!.Length);
        Assert.Contains("clustering", result.Seconds.Keys);

        var bare = ModelAssessment.Run(fixture.Model!, fixture.Data!, importanceSamples: 0, clustering: false, seed: 2);
        Assert.Equal(result.Elbo, bare.Elbo);
        Assert.Null(bare.LogLikelihood);
        Assert.Equal(0, bare.ImportanceSamples);
        Assert.Null(bare.Clustering);
        var e = Assert.Throws<ArgumentException>(() => ModelAssessment.Run(fixture.Model!, fixture.Data!, importanceSamples: -1));
        Assert.Equal($"importance samples must be in 0-{VaeModel.MaxImportanceSamples}, got -1", e.Message);
        Assert.Throws<ArgumentException>(() => ModelAssessment.Run(fixture.Model!, fixture.Data!, VaeModel.MaxImportanceSamples + 1));
    }
}
