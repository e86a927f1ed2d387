using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace IlgpuVae.Analysis;

/// <summary>
/// Reference points packed for a register-blocked squared-distance kernel. Points are grouped into panels of
/// <see cref="Width"/> (two SIMD vectors); inside a panel the layout is dimension-major, so one dimension of all
/// the panel's points is two contiguous vectors. Lanes past <see cref="Count"/> hold +infinity, so their
/// distances to any finite query are +infinity.
/// </summary>
/// <remarks>
/// Distances use the direct form sum_d (b_d - a_d)^2 rather than |a|^2 + |b|^2 - 2ab: it costs one extra
/// subtraction per term but has no cancellation, so a point's distance to itself is exactly 0 and nearby points
/// far from the origin keep their relative precision.
/// </remarks>
internal sealed class PanelMatrix
{
    /// <summary>Queries handled per kernel call.</summary>
    public const int QueryRows = 4;

    private readonly float[] data;

    /// <summary>Creates storage for <paramref name="count"/> points of <paramref name="dims"/> values, all lanes +infinity.</summary>
    /// <param name="count">Number of points, at least 0.</param>
    /// <param name="dims">Values per point, at least 1.</param>
    public PanelMatrix(int count, int dims)
    {
        Count = count;
        Dims = dims;
        PanelCount = (count + Width - 1) / Width;
        data = new float[(long)PanelCount * dims * Width];
        data.AsSpan().Fill(float.PositiveInfinity);
    }

    /// <summary>Packs row-major <paramref name="points"/> (count x dims).</summary>
    /// <param name="points">Row-major points.</param>
    /// <param name="count">Number of rows.</param>
    /// <param name="dims">Values per row.</param>
    public PanelMatrix(ReadOnlySpan<float> points, int count, int dims)
        : this(count, dims)
    {
        Load(points);
    }

    /// <summary>Points per panel: two SIMD vectors of floats.</summary>
    public static int Width => 2 * Vector<float>.Count;

    /// <summary>Number of real points.</summary>
    public int Count { get; }

    /// <summary>Values per point.</summary>
    public int Dims { get; }

    /// <summary>Number of panels, the last one possibly padded.</summary>
    public int PanelCount { get; }

    /// <summary>Overwrites the packed points with row-major <paramref name="points"/> (Count x Dims).</summary>
    /// <param name="points">Row-major points, exactly Count * Dims values.</param>
    public void Load(ReadOnlySpan<float> points)
    {
        if (points.Length != Count * Dims)
        {
            throw new ArgumentException($"Expected {Count * Dims} values but got {points.Length}.", nameof(points));
        }

        int w = Width;
        for (int i = 0; i < Count; i++)
        {
            int panel = i / w;
            int lane = i - (panel * w);
            int baseIndex = (panel * Dims * w) + lane;
            ReadOnlySpan<float> row = points.Slice(i * Dims, Dims);
            for (int d = 0; d < row.Length; d++)
            {
                data[baseIndex + (d * w)] = row[d];
            }
        }
    }

    /// <summary>
    /// Squared Euclidean distances from <see cref="QueryRows"/> query points to every point of one panel.
    /// </summary>
    /// <param name="queries">Row-major <see cref="QueryRows"/> x Dims query values (pad unused rows with anything finite).</param>
    /// <param name="panel">Panel index.</param>
    /// <param name="output">Receives <see cref="QueryRows"/> x <see cref="Width"/> distances, row r at r * Width.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Distances(ReadOnlySpan<float> queries, int panel, Span<float> output)
    {
        int dims = Dims;
        int w = Width;
        int vc = Vector<float>.Count;
        if (queries.Length < QueryRows * dims || output.Length < QueryRows * w || (uint)panel >= (uint)PanelCount)
        {
            throw new ArgumentException("Query or output buffer too small, or panel out of range.");
        }

        ref float b = ref data[panel * dims * w];
        ref float q0 = ref MemoryMarshal.GetReference(queries);
        ref float q1 = ref Unsafe.Add(ref q0, dims);
        ref float q2 = ref Unsafe.Add(ref q1, dims);
        ref float q3 = ref Unsafe.Add(ref q2, dims);
        Vector<float> s00 = Vector<float>.Zero, s01 = Vector<float>.Zero;
        Vector<float> s10 = Vector<float>.Zero, s11 = Vector<float>.Zero;
        Vector<float> s20 = Vector<float>.Zero, s21 = Vector<float>.Zero;
        Vector<float> s30 = Vector<float>.Zero, s31 = Vector<float>.Zero;
        for (int d = 0; d < dims; d++)
        {
            nuint offset = (nuint)(d * w);
            Vector<float> b0 = Vector.LoadUnsafe(ref b, offset);
            Vector<float> b1 = Vector.LoadUnsafe(ref b, offset + (nuint)vc);

            Vector<float> a = new(Unsafe.Add(ref q0, d));
            Vector<float> t0 = b0 - a;
            Vector<float> t1 = b1 - a;
            s00 = Vector.MultiplyAddEstimate(t0, t0, s00);
            s01 = Vector.MultiplyAddEstimate(t1, t1, s01);

            a = new(Unsafe.Add(ref q1, d));
            t0 = b0 - a;
            t1 = b1 - a;
            s10 = Vector.MultiplyAddEstimate(t0, t0, s10);
            s11 = Vector.MultiplyAddEstimate(t1, t1, s11);

            a = new(Unsafe.Add(ref q2, d));
            t0 = b0 - a;
            t1 = b1 - a;
            s20 = Vector.MultiplyAddEstimate(t0, t0, s20);
            s21 = Vector.MultiplyAddEstimate(t1, t1, s21);

            a = new(Unsafe.Add(ref q3, d));
            t0 = b0 - a;
            t1 = b1 - a;
            s30 = Vector.MultiplyAddEstimate(t0, t0, s30);
            s31 = Vector.MultiplyAddEstimate(t1, t1, s31);
        }

        ref float o = ref MemoryMarshal.GetReference(output);
        s00.StoreUnsafe(ref o, 0);
        s01.StoreUnsafe(ref o, (nuint)vc);
        s10.StoreUnsafe(ref o, (nuint)w);
        s11.StoreUnsafe(ref o, (nuint)(w + vc));
        s20.StoreUnsafe(ref o, (nuint)(2 * w));
        s21.StoreUnsafe(ref o, (nuint)((2 * w) + vc));
        s30.StoreUnsafe(ref o, (nuint)(3 * w));
        s31.StoreUnsafe(ref o, (nuint)((3 * w) + vc));
    }

    /// <summary>
    /// Copies up to <see cref="QueryRows"/> consecutive rows starting at <paramref name="firstRow"/> into
    /// <paramref name="buffer"/>, filling missing rows with zeros.
    /// </summary>
    /// <param name="points">Row-major source points.</param>
    /// <param name="dims">Values per row.</param>
    /// <param name="firstRow">First row to copy.</param>
    /// <param name="rowCount">Total rows in <paramref name="points"/>.</param>
    /// <param name="buffer">Destination, at least <see cref="QueryRows"/> * dims values.</param>
    /// <returns>The number of real rows copied (1..<see cref="QueryRows"/>).</returns>
    public static int GatherQueries(ReadOnlySpan<float> points, int dims, int firstRow, int rowCount, Span<float> buffer)
    {
        int rows = Math.Min(QueryRows, rowCount - firstRow);
        points.Slice(firstRow * dims, rows * dims).CopyTo(buffer);
        buffer.Slice(rows * dims, (QueryRows - rows) * dims).Clear();
        return rows;
    }
}
