using System.Diagnostics;
using System.Globalization;
using IlgpuVae.Classification;
using IlgpuVae.Training;
using static IlgpuVae.Cli.Common;

namespace IlgpuVae.Cli;

/// <summary>
/// Training progress for a person: on a terminal, one live line (epoch, phase, a bar, step, loss, speed, ETA) that
/// fits the window (fields dropping from the right when it is narrow) and is redrawn at most <see cref="RedrawsPerSecond"/> times a second; a plain line per finished
/// epoch either way, and only those when the output is redirected.
/// </summary>
/// <remarks>
/// The trainer reports after every step from the host's step count without waiting for the device, so the live
/// line costs no synchronisation; the train loss is only known at the trainer's read-back points and is shown
/// from the last one. The ETA counts the remaining training steps at this epoch's rate plus the remaining test
/// passes at the last one's measured length (until one has been measured it is a lower bound, shown as "&gt;").
/// </remarks>
public sealed class TrainingProgressView : IProgress<WorkProgress>, IDisposable
{
    public const int RedrawsPerSecond = 8;

    private readonly TextWriter _output;
    private readonly bool _live;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private double _lastDraw = double.NegativeInfinity;
    private int _drawnLength;
    private double? _lastLoss;
    // Where the current phase started (clock time and step), to measure its rate; the phase is the report's part,
    // "training" or "testing".
    private (int Epoch, bool Testing, TimeSpan Start, int Step) _phase = (-1, false, TimeSpan.Zero, 0);
    private double? _testPassSeconds;

    public TrainingProgressView(TextWriter output)
    {
        _output = output;
        _live = ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected;
    }

    public void Report(WorkProgress p)
    {
        if (p.Completed is { } m)
        {
            EndPhase(p.Epoch);
            Clear();
            _output.WriteLine($"epoch {m.Epoch}/{p.Epochs}  train {F(m.TrainLoss)}  test {F(m.TestLoss)} (recon {F(m.TestReconstruction ?? double.NaN)}, KL {F(m.TestKl ?? double.NaN)})  {F(m.EpochSeconds)} s  {F(m.SamplesPerSecond, "F0")} samples/s");
            return;
        }
        Update(p.Epoch, p.Epochs, IsTesting(p), p.Done, p.Total, p.TrainLoss, p.SamplesPerSecond, "F2");
    }

    /// <summary>The same view for a classifier's training.</summary>
    public IProgress<WorkProgress> ForClassifier() => new ClassifierAdapter(this);

    public void Dispose() => Clear();

    // The trainers report two parts: "training" (its steps, and each epoch's end) and "testing" (the test pass).
    private static bool IsTesting(WorkProgress p) => p.Part == "testing";

    private void Update(int epoch, int epochs, bool testing, int step, int steps, double? loss, double samplesPerSecond, string lossFormat)
    {
        if (_phase.Epoch != epoch)
            _lastLoss = null;
        if (loss is double known)
            _lastLoss = known;
        var now = _clock.Elapsed;
        if (_phase.Epoch != epoch || _phase.Testing != testing)
        {
            if (testing)
                _phase = (epoch, testing, now, 0);
            else
                _phase = (epoch, testing, now, step);
        }
        if (!_live)
            return;
        bool last = step == steps;
        if (!last && now.TotalSeconds - _lastDraw < 1.0 / RedrawsPerSecond)
            return;
        _lastDraw = now.TotalSeconds;
        double elapsed = (now - _phase.Start).TotalSeconds;
        double rate = elapsed > 0 ? (step - _phase.Step) / elapsed : 0;
        double? eta = Eta(epoch, epochs, testing, step, steps, rate, out bool lowerBound);
        string left = $"epoch {epoch}/{epochs} {(testing ? "test " : "train")} ";
        // The step padded to its final width, so the bar keeps its length as the count grows.
        var fields = new List<string> { $" {step.ToString(CultureInfo.InvariantCulture).PadLeft(steps.ToString(CultureInfo.InvariantCulture).Length)}/{steps}" };
        if (!testing && _lastLoss is double shown)
            fields.Add($"loss {F(shown, lossFormat)}");
        // Fields go from the right when the window is narrow: the speed first, then the ETA.
        if (eta is double seconds)
            fields.Add($"ETA {(lowerBound ? ">" : "")}{Duration(seconds)}");
        if (!testing && samplesPerSecond > 0)
            fields.Add($"{F(samplesPerSecond, "F0")} img/s");
        Draw(Fit(left, fields, step / (double)Math.Max(1, steps), Width()));
    }

    /// <summary>Seconds left: this phase's remaining steps at its rate, then the rest of the epochs and their test passes.</summary>
    private double? Eta(int epoch, int epochs, bool testing, int step, int steps, double rate, out bool lowerBound)
    {
        lowerBound = false;
        if (rate <= 0)
            return null;
        int laterEpochs = epochs - epoch;
        if (!testing)
        {
            _train = (steps, rate);
            // Until a test pass has been timed its length is unknown: the ETA is then a lower bound.
            lowerBound = _testPassSeconds is null;
            double test = _testPassSeconds ?? 0;
            return (steps - step) / rate + test + laterEpochs * (steps / rate + test);
        }
        double testPass = _testPassSeconds ?? steps / rate;
        double trainEpoch = _train.StepsPerSecond > 0 ? _train.Steps / _train.StepsPerSecond : 0;
        return (steps - step) / rate + laterEpochs * (trainEpoch + testPass);
    }

    private (int Steps, double StepsPerSecond) _train;

    private void EndPhase(int epoch)
    {
        if (_phase.Epoch == epoch && _phase.Testing)
            _testPassSeconds = (_clock.Elapsed - _phase.Start).TotalSeconds;
    }

    /// <summary>h:mm:ss, capped at 99:59:59 (a first, slow step can promise years).</summary>
    public static string Duration(double seconds)
    {
        long total = (long)Math.Round(Math.Clamp(double.IsFinite(seconds) ? seconds : 0, 0, 99 * 3600 + 59 * 60 + 59));
        return $"{total / 3600}:{total / 60 % 60:00}:{total % 60:00}";
    }

    /// <summary>The line at exactly <paramref name="width"/> columns or fewer: the bar takes what the text leaves, and fields go from the right when even a short bar does not fit.</summary>
    public static string Fit(string left, IReadOnlyList<string> fields, double fraction, int width)
    {
        const int minBar = 10;
        for (int keep = fields.Count; keep >= 0; keep--)
        {
            string right = string.Join("  ", fields.Take(keep));
            int bar = width - left.Length - right.Length - 2;
            if (bar >= minBar || keep == 0)
            {
                bar = Math.Clamp(bar, 0, 40);
                int filled = (int)Math.Round(bar * Math.Clamp(fraction, 0, 1));
                string line = bar >= 3
                    ? $"{left}[{new string('#', filled)}{new string('.', bar - filled)}]{right}"
                    : left + right;
                return line.Length <= width ? line : line[..Math.Max(0, width)];
            }
        }
        return "";
    }

    // One column short of the window: writing the last column makes some terminals wrap.
    private static int Width()
    {
        int columns;
        try
        {
            columns = Console.WindowWidth;
        }
        catch (IOException)
        {
            columns = 80;
        }
        return Math.Max(20, (columns > 0 ? columns : 80) - 1);
    }

    private void Draw(string line)
    {
        _output.Write("\r" + line + new string(' ', Math.Max(0, _drawnLength - line.Length)));
        _output.Flush();
        _drawnLength = line.Length;
    }

    private void Clear()
    {
        if (!_live || _drawnLength == 0)
            return;
        _output.Write("\r" + new string(' ', _drawnLength) + "\r");
        _output.Flush();
        _drawnLength = 0;
    }

    private sealed class ClassifierAdapter(TrainingProgressView view) : IProgress<WorkProgress>
    {
        public void Report(WorkProgress p)
        {
            if (p.Completed is { } m)
            {
                view.EndPhase(p.Epoch);
                view.Clear();
                view._output.WriteLine($"epoch {m.Epoch}/{p.Epochs}  train loss {F(m.TrainLoss, "F4")}  test loss {F(m.TestLoss, "F4")}  test accuracy {F(100 * (m.TestAccuracy ?? double.NaN))}%  {F(m.EpochSeconds)} s  {F(m.SamplesPerSecond, "F0")} samples/s");
                return;
            }
            view.Update(p.Epoch, p.Epochs, IsTesting(p), p.Done, p.Total, p.TrainLoss, p.SamplesPerSecond, "F4");
        }
    }
}
