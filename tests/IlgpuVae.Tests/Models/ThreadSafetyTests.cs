using IlgpuVae.Classification;
using IlgpuVae.Compute;
using IlgpuVae.Data;
using IlgpuVae.Models;
using IlgpuVae.Training;
using Xunit;

namespace IlgpuVae.Tests.Models;

/// <summary>
/// Models shared between threads: 8 threads calling Sample, Encode, Decode, Reconstruct and Score at once on one
/// model, and on two models of one device, get exactly the serial results; trainers refuse a second caller; every
/// disposable throws ObjectDisposedException after Dispose. Untrained models on random images: no MNIST needed.
/// Small capacities make every call run several device batches, so interleaved calls would overwrite each other.
/// </summary>
public sealed class ThreadSafetyTests
{
    private const int Threads = 8;
    private const int Rounds = 6;

    [Fact]
    public void VaeModel_EightThreadsAtOnce_MatchSerialResults()
    {
        using var device = ComputeDevice.Open(DeviceChoice.Cpu);
        using var model = VaeModel.Create(device, new VaeConfig(784, [64], 6), seed: 5, capacity: 16);
        var calls = VaeCalls(model, images: RandomImages(40, seed: 1), codes: model.PriorSamples(37, 9));
        var serial = calls.Select(call => call()).ToArray();

        var results = RunConcurrently(calls);

        foreach (var (call, result) in results)
            Assert.Equal(serial[call], result);
    }

    [Fact]
    public void TwoModelsOnOneDevice_EightThreadsAtOnce_MatchSerialResults()
    {
        using var device = ComputeDevice.Open(DeviceChoice.Cpu);
        using var vae = VaeModel.Create(device, new VaeConfig(784, [64], 6), seed: 5, capacity: 16);
        using var cvae = VaeModel.Create(device, new VaeConfig(784, [48], 3, Classes: 10), seed: 6, capacity: 8);
        using var classifier = Classifier.Create(device, new ClassifierConfig(784, [32]), seed: 7, capacity: 16);
        var images = RandomImages(30, seed: 2);
        var labels = Enumerable.Range(0, 30).Select(i => i % 10).ToArray();
        var calls = VaeCalls(vae, images, vae.PriorSamples(33, 3)).Concat(
        [
            () => cvae.Reconstruct(images, labels).Values,
            () => cvae.SampleClass(label: 4, count: 21, seed: 8).Values,
            () => classifier.Logits(images),
            // Creating and disposing a model is device work too (allocation, initialisation).
            () =>
            {
                using var fresh = VaeModel.Create(device, new VaeConfig(784, [24], 2), seed: 9, capacity: 8);
                return fresh.Sample(11, seed: 4).Values;
            },
        ]).ToArray();
        var serial = calls.Select(call => call()).ToArray();

        var results = RunConcurrently(calls);

        foreach (var (call, result) in results)
            Assert.Equal(serial[call], result);
    }

    [Fact]
    public void DisposedVaeModel_EveryMember_ThrowsObjectDisposed()
    {
        using var device = ComputeDevice.Open(DeviceChoice.Cpu);
        var model = VaeModel.Create(device, new VaeConfig(784, [16], 2), capacity: 8);
        var image = RandomImages(1, seed: 3);
        var set = new ImageSet(new byte[2 * 784], [1, 2], 28, 28);
        model.Dispose();
        model.Dispose();

        Assert.Throws<ObjectDisposedException>(() => model.Config);
        Assert.Throws<ObjectDisposedException>(() => model.ParameterCount);
        Assert.Throws<ObjectDisposedException>(() => model.Metadata);
        Assert.Throws<ObjectDisposedException>(() => model.Encode(image));
        Assert.Throws<ObjectDisposedException>(() => model.Decode(new float[2]));
        Assert.Throws<ObjectDisposedException>(() => model.Reconstruct(image));
        Assert.Throws<ObjectDisposedException>(() => model.Sample(1, 1));
        Assert.Throws<ObjectDisposedException>(() => model.SampleClass(label: 1, count: 1, seed: 1));
        Assert.Throws<ObjectDisposedException>(() => model.PriorSamples(1, 1));
        Assert.Throws<ObjectDisposedException>(() => model.LatentMeans(image));
        Assert.Throws<ObjectDisposedException>(() => model.LatentMeans(set));
        Assert.Throws<ObjectDisposedException>(() => model.Score(image));
        Assert.Throws<ObjectDisposedException>(() => model.Evaluate(set, 1));
        Assert.Throws<ObjectDisposedException>(() => model.EstimateLogLikelihood(set, 2, 1));
        Assert.Throws<ObjectDisposedException>(() => model.Save(Path.Combine(Path.GetTempPath(), "never.safetensors")));
        Assert.Throws<ObjectDisposedException>(() => ModelAssessment.Run(model, new ImageData(set, set)));
    }

    [Fact]
    public void DisposedClassifier_EveryMember_ThrowsObjectDisposed()
    {
        using var device = ComputeDevice.Open(DeviceChoice.Cpu);
        var classifier = Classifier.Create(device, new ClassifierConfig(784, [8]), capacity: 8);
        var image = RandomImages(1, seed: 4);
        classifier.Dispose();

        Assert.Throws<ObjectDisposedException>(() => classifier.Config);
        Assert.Throws<ObjectDisposedException>(() => classifier.ParameterCount);
        Assert.Throws<ObjectDisposedException>(() => classifier.Predict(image));
        Assert.Throws<ObjectDisposedException>(() => classifier.Predict(image, out _));
        Assert.Throws<ObjectDisposedException>(() => classifier.Logits(image));
        Assert.Throws<ObjectDisposedException>(() => classifier.Accuracy(image, [1]));
        Assert.Throws<ObjectDisposedException>(() => classifier.Evaluate(new ImageSet(new byte[784], [1], 28, 28)));
        Assert.Throws<ObjectDisposedException>(() => classifier.Save(Path.Combine(Path.GetTempPath(), "never.safetensors")));
    }

    [Fact]
    public void DisposedDevice_ItsMembersAndItsModels_ThrowObjectDisposed()
    {
        var device = ComputeDevice.Open(DeviceChoice.Cpu);
        var model = VaeModel.Create(device, new VaeConfig(784, [8], 2), capacity: 4);
        device.Dispose();
        device.Dispose();

        Assert.Throws<ObjectDisposedException>(() => device.Kind);
        Assert.Throws<ObjectDisposedException>(() => device.Description);
        Assert.Throws<ObjectDisposedException>(() => model.Sample(1, 1));
    }

    [Fact]
    public void DisposedTrainers_EveryMember_ThrowObjectDisposed()
    {
        using var device = ComputeDevice.Open(DeviceChoice.Cpu);
        var data = new ImageData(Blank(64), Blank(16));
        var vae = new VaeTrainer(device, data, new TrainingOptions { Epochs = 1, BatchSize = 32, Model = new VaeConfig(784, [8], 2) });
        var model = vae.Model;
        vae.Dispose();
        vae.Dispose();
        Assert.Throws<ObjectDisposedException>(() => vae.Model);
        Assert.Throws<ObjectDisposedException>(() => vae.Options);
        Assert.Throws<ObjectDisposedException>(() => vae.StepsPerEpoch);
        Assert.Throws<ObjectDisposedException>(() => vae.TrainCount);
        Assert.Throws<ObjectDisposedException>(() => vae.History);
        Assert.Throws<ObjectDisposedException>(() => vae.FirstStepDone);
        Assert.Throws<ObjectDisposedException>(() => vae.EpochCompleted += (_, _) => { });
        Assert.Throws<ObjectDisposedException>(() => vae.Train());
        Assert.Throws<ObjectDisposedException>(() => { _ = vae.TrainAsync(); });
        Assert.Throws<ObjectDisposedException>(() => model.Sample(1, 1));

        var classifier = new ClassifierTrainer(device, data, new ClassifierConfig(784, [8]), ClassifierTrainer.DefaultSettings with { Epochs = 1, BatchSize = 32 });
        classifier.Dispose();
        Assert.Throws<ObjectDisposedException>(() => classifier.Classifier);
        Assert.Throws<ObjectDisposedException>(() => classifier.Settings);
        Assert.Throws<ObjectDisposedException>(() => classifier.StepsPerEpoch);
        Assert.Throws<ObjectDisposedException>(() => classifier.TrainCount);
        Assert.Throws<ObjectDisposedException>(() => classifier.History);
        Assert.Throws<ObjectDisposedException>(() => classifier.Train());
        Assert.Throws<ObjectDisposedException>(() => { _ = classifier.TrainAsync(); });
        Assert.Throws<ObjectDisposedException>(() => classifier.EvaluateTest());
        Assert.Throws<ObjectDisposedException>(() => classifier.Save("never.safetensors"));
        Assert.Throws<ObjectDisposedException>(() => classifier.LearningRateAt(0));
    }

    [Fact]
    public async Task Trainer_SecondCallerWhileTraining_ThrowsInvalidOperation_AndModelsOnTheDeviceStillServe()
    {
        using var device = ComputeDevice.Open(DeviceChoice.Cpu);
        using var other = VaeModel.Create(device, new VaeConfig(784, [32], 4), seed: 2, capacity: 8);
        var expected = other.Sample(20, seed: 5).Values;
        var data = new ImageData(Blank(256), Blank(16));
        // Far more epochs than the test lasts: on a quiet machine 1,000 epochs of this toy model end within a second, before
        // the second caller arrives. The run is cancelled below.
        using var trainer = new VaeTrainer(device, data, new TrainingOptions { Epochs = 1_000_000, BatchSize = 32, Model = new VaeConfig(784, [16], 2) });
        using var cancel = new CancellationTokenSource();
        var started = new TaskCompletionSource();
        var training = trainer.TrainAsync(new SynchronousProgress<WorkProgress>(_ => started.TrySetResult()), cancel.Token);
        await started.Task.WaitAsync(TimeSpan.FromMinutes(1));

        Assert.Throws<InvalidOperationException>(() => trainer.Train());
        await Assert.ThrowsAsync<InvalidOperationException>(() => trainer.TrainAsync());
        Assert.Throws<InvalidOperationException>(() => trainer.Dispose());
        // Another model on the device, used while the trainer steps: its results are untouched.
        Assert.Equal(expected, other.Sample(20, seed: 5).Values);

        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => training.WaitAsync(TimeSpan.FromMinutes(1)));
    }

    [Fact]
    public void ModelAssessment_CancelledToken_ThrowsAndReportsProgressBeforeThat()
    {
        using var device = ComputeDevice.Open(DeviceChoice.Cpu);
        using var model = VaeModel.Create(device, new VaeConfig(784, [16], 2), capacity: 8);
        var set = new ImageSet(new byte[40 * 784], Enumerable.Range(0, 40).Select(i => (byte)(i % 10)).ToArray(), 28, 28);
        var data = new ImageData(set, set);
        using var cancel = new CancellationTokenSource();
        var seen = new List<WorkProgress>();
        var progress = new SynchronousProgress<WorkProgress>(p =>
        {
            seen.Add(p);
            if (p.Part == "log_likelihood" && p.Done == 2)
                cancel.Cancel();
        });

        Assert.ThrowsAny<OperationCanceledException>(() =>
            ModelAssessment.Run(model, data, importanceSamples: 3, progress: progress, cancellationToken: cancel.Token));

        Assert.Equal(new WorkProgress("elbo", 5, 5), seen.Last(p => p.Part == "elbo"));
        Assert.Equal(new WorkProgress("log_likelihood", 2, 5), seen[^1]);
        // The model is usable afterwards.
        Assert.Equal(784, model.Sample(1, 1).Values.Length);
    }

    [Fact]
    public void ModelAssessment_TokenCancelledDuringClustering_Throws_WithThatToken()
    {
        using var device = ComputeDevice.Open(DeviceChoice.Cpu);
        using var model = VaeModel.Create(device, new VaeConfig(Tests.Data.SyntheticIdx.Height * Tests.Data.SyntheticIdx.Width, [16], 2), capacity: 16);
        var data = Tests.Data.SyntheticIdx.InMemory(200, 60);
        using var cancel = new CancellationTokenSource();
        var seen = new List<WorkProgress>();
        var progress = new SynchronousProgress<WorkProgress>(p =>
        {
            seen.Add(p);
            if (p.Part == "clustering")
                cancel.Cancel();
        });

        var stop = Assert.ThrowsAny<OperationCanceledException>(() =>
            ModelAssessment.Run(model, data, importanceSamples: 0, progress: progress, cancellationToken: cancel.Token));

        Assert.Equal(cancel.Token, stop.CancellationToken);
        // The clustering started and did not finish.
        Assert.Equal(new WorkProgress("clustering", 0, 1), seen[^1]);
    }

    [Fact]
    public void Score_IsPerImageNegativeElbo_WithZEqualMu_AndAgreesWithReconstruct()
    {
        using var device = ComputeDevice.Open(DeviceChoice.Cpu);
        using var model = VaeModel.Create(device, new VaeConfig(784, [16], 3), seed: 4, capacity: 8);
        var images = RandomImages(11, seed: 6);
        var scores = model.Score(images);
        var reconstruction = model.Reconstruct(images).Values;
        var (mu, logVar) = model.Encode(images);
        for (int i = 0; i < 11; i++)
        {
            double bce = 0, kl = 0;
            for (int p = 0; p < 784; p++)
            {
                double x = images[i * 784 + p], y = Math.Clamp(reconstruction[i * 784 + p], 1e-7, 1 - 1e-7);
                bce -= x * Math.Log(y) + (1 - x) * Math.Log(1 - y);
            }
            for (int j = 0; j < 3; j++)
            {
                double m = mu[i * 3 + j], v = logVar[i * 3 + j];
                kl += -0.5 * (1 + v - m * m - Math.Exp(v));
            }
            Assert.Equal(bce, scores.Reconstruction[i], 1e-3 * bce);
            Assert.Equal(kl, scores.Kl[i], 1e-3 * Math.Max(kl, 1e-2));
            Assert.Equal(scores.Reconstruction[i] + scores.Kl[i], scores.Loss[i]);
        }
        Assert.Equal(scores.Loss, model.Score(images).Loss);
        Assert.Equal(mu, model.LatentMeans(images));
    }

    private static Func<float[]>[] VaeCalls(VaeModel model, float[] images, float[] codes) =>
    [
        () => model.Sample(23, seed: 11).Values,
        () => model.Sample(17, seed: 12).Values,
        () => model.Encode(images).Mu,
        () => model.Encode(images).LogVar,
        () => model.Decode(codes).Values,
        () => model.Reconstruct(images).Values,
        () => model.Score(images).Loss,
        () => model.LatentMeans(images),
    ];

    // Each thread runs every call Rounds times, starting at a different call, all threads released at once.
    private static List<(int Call, float[] Result)> RunConcurrently(Func<float[]>[] calls)
    {
        var results = new List<(int, float[])>();
        using var start = new Barrier(Threads);
        var threads = Enumerable.Range(0, Threads).Select(t => new Thread(() =>
        {
            var mine = new List<(int, float[])>();
            start.SignalAndWait();
            for (int r = 0; r < Rounds * calls.Length; r++)
            {
                int call = (t + r) % calls.Length;
                mine.Add((call, calls[call]()));
            }
            lock (results)
                results.AddRange(mine);
        })).ToList();
        threads.ForEach(thread => thread.Start());
        threads.ForEach(thread => thread.Join());
        Assert.Equal(Threads * Rounds * calls.Length, results.Count);
        return results;
    }

    private static float[] RandomImages(int count, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count * 784).Select(_ => random.NextSingle()).ToArray();
    }

    private static ImageSet Blank(int count) =>
        new(new byte[count * 784], Enumerable.Range(0, count).Select(i => (byte)(i % 10)).ToArray(), 28, 28);

    private sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
