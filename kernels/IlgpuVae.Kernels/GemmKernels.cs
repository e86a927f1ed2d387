using ILGPU;

namespace IlgpuVae.Kernels;

/// <summary>
/// Shape and scalars of one GEMM launch, <c>C = alpha op(A) op(B) + beta C</c>, all row-major.
/// op(A) is M x K, op(B) is K x N and C is M x N. The element strides encode the transposes:
/// op(A)[i, p] = a[i * ARow + p * ACol], op(B)[p, j] = b[p * BRow + j * BCol], C[i, j] = c[i * Ldc + j].
/// </summary>
public struct GemmShape
{
    /// <summary>Rows of op(A) and of C.</summary>
    public int M;
    /// <summary>Columns of op(B) and of C.</summary>
    public int N;
    /// <summary>The shared dimension.</summary>
    public int K;
    /// <summary>Element stride of op(A) along its rows (i).</summary>
    public int ARow;
    /// <summary>Element stride of op(A) along its columns (p).</summary>
    public int ACol;
    /// <summary>Element stride of op(B) along its rows (p).</summary>
    public int BRow;
    /// <summary>Element stride of op(B) along its columns (j).</summary>
    public int BCol;
    /// <summary>Leading dimension (row stride) of C.</summary>
    public int Ldc;
    /// <summary>Scale of the product.</summary>
    public float Alpha;
    /// <summary>Scale of the old C; when zero, C is not read (NaNs in it do not leak through).</summary>
    public float Beta;

    /// <summary>Builds the shape for row-major A, B, C with BLAS-style transposes and leading dimensions.</summary>
    public static GemmShape Create(bool transA, bool transB, int m, int n, int k,
        float alpha, int lda, int ldb, float beta, int ldc) => new()
    {
        M = m, N = n, K = k,
        ARow = transA ? 1 : lda, ACol = transA ? lda : 1,
        BRow = transB ? 1 : ldb, BCol = transB ? ldb : 1,
        Ldc = ldc, Alpha = alpha, Beta = beta,
    };
}

/// <summary>
/// General matrix products <c>C = alpha op(A) op(B) + beta C</c> (theory: docs/theory.md, "Linear layer").
/// The linear layer's forward is NT (x W^T), its input gradient NN (dy W) and its weight gradient TN (dy^T x).
/// </summary>
public static class GemmKernels
{
    /// <summary>Rows of C computed by one group of the tiled kernel.</summary>
    public const int TileM = 64;
    /// <summary>Columns of C computed by one group of the tiled kernel.</summary>
    public const int TileN = 64;
    /// <summary>Depth of one shared-memory tile along K.</summary>
    public const int TileK = 16;
    /// <summary>The tiled kernel's group is <see cref="GroupSide"/> x <see cref="GroupSide"/> threads.</summary>
    public const int GroupSide = 16;

    /// <summary>
    /// Grid-stride GEMM: each thread computes C elements index, index + stride, ... with a plain dot product.
    /// Launch with a small extent (multiprocessors x warp size) on the CPU accelerator, where every simulated
    /// thread is an OS thread and shared memory is pathologically slow.
    /// </summary>
    /// <param name="index">The thread index.</param>
    /// <param name="stride">The launch extent.</param>
    /// <param name="a">op(A) storage, M x K after the transpose.</param>
    /// <param name="b">op(B) storage, K x N after the transpose.</param>
    /// <param name="c">C, M x N with row stride Ldc.</param>
    /// <param name="s">Shape and scalars.</param>
    public static void GemmGridStrideKernel(Index1D index, int stride,
        ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, GemmShape s)
    {
        int total = s.M * s.N;
        for (int e = index; e < total; e += stride)
        {
            int i = e / s.N, j = e - i * s.N;
            int ai = i * s.ARow, bj = j * s.BCol;
            float acc = 0f;
            for (int p = 0; p < s.K; p++)
                acc += a[ai + p * s.ACol] * b[p * s.BRow + bj];
            int ci = i * s.Ldc + j;
            c[ci] = s.Beta == 0f ? s.Alpha * acc : s.Alpha * acc + s.Beta * c[ci];
        }
    }

    /// <summary>
    /// Shared-memory, register-tiled GEMM for GPUs. A group of 16 x 16 threads computes a 64 x 64 tile of C,
    /// each thread a 4 x 4 block at rows ty + 16 r and columns tx + 16 q (so shared-memory reads of a warp
    /// are consecutive or broadcast). Launch with grid (ceil(N / 64), ceil(M / 64)) and group (16, 16).
    /// </summary>
    /// <param name="a">op(A) storage, M x K after the transpose.</param>
    /// <param name="b">op(B) storage, K x N after the transpose.</param>
    /// <param name="c">C, M x N with row stride Ldc.</param>
    /// <param name="s">Shape and scalars.</param>
    public static void GemmTiledKernel(ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, GemmShape s)
    {
        var tileA = SharedMemory.Allocate<float>(TileK * TileM); // [k][m]
        var tileB = SharedMemory.Allocate<float>(TileK * TileN); // [k][n]
        int tx = Group.IdxX, ty = Group.IdxY;
        int thread = ty * GroupSide + tx;
        int row0 = Grid.IdxY * TileM, col0 = Grid.IdxX * TileN;
        // When A's K index is contiguous (ACol == 1), let neighbouring threads walk K so loads coalesce.
        bool aAlongK = s.ACol == 1;
        bool bAlongN = s.BCol == 1;

        Row4 r0 = default, r1 = default, r2 = default, r3 = default;
        for (int k0 = 0; k0 < s.K; k0 += TileK)
        {
            for (int e = thread; e < TileK * TileM; e += GroupSide * GroupSide)
            {
                int kk = aAlongK ? e % TileK : e / TileM;
                int mm = aAlongK ? e / TileK : e % TileM;
                int i = row0 + mm, p = k0 + kk;
                tileA[kk * TileM + mm] = i < s.M && p < s.K ? a[i * s.ARow + p * s.ACol] : 0f;
            }
            for (int e = thread; e < TileK * TileN; e += GroupSide * GroupSide)
            {
                int kk = bAlongN ? e / TileN : e % TileK;
                int nn = bAlongN ? e % TileN : e / TileK;
                int j = col0 + nn, p = k0 + kk;
                tileB[kk * TileN + nn] = j < s.N && p < s.K ? b[p * s.BRow + j * s.BCol] : 0f;
            }
            Group.Barrier();
            for (int kk = 0; kk < TileK; kk++)
            {
                int ka = kk * TileM + ty, kb = kk * TileN + tx;
                float b0 = tileB[kb], b1 = tileB[kb + 16], b2 = tileB[kb + 32], b3 = tileB[kb + 48];
                r0.Fma(tileA[ka], b0, b1, b2, b3);
                r1.Fma(tileA[ka + 16], b0, b1, b2, b3);
                r2.Fma(tileA[ka + 32], b0, b1, b2, b3);
                r3.Fma(tileA[ka + 48], b0, b1, b2, b3);
            }
            Group.Barrier();
        }
        Store(c, s, row0 + ty, col0 + tx, r0);
        Store(c, s, row0 + ty + 16, col0 + tx, r1);
        Store(c, s, row0 + ty + 32, col0 + tx, r2);
        Store(c, s, row0 + ty + 48, col0 + tx, r3);
    }

    private static void Store(ArrayView<float> c, GemmShape s, int i, int j, Row4 r)
    {
        if (i >= s.M)
            return;
        StoreOne(c, s, i, j, r.X0);
        StoreOne(c, s, i, j + 16, r.X1);
        StoreOne(c, s, i, j + 32, r.X2);
        StoreOne(c, s, i, j + 48, r.X3);
    }

    private static void StoreOne(ArrayView<float> c, GemmShape s, int i, int j, float acc)
    {
        if (j >= s.N)
            return;
        int ci = i * s.Ldc + j;
        c[ci] = s.Beta == 0f ? s.Alpha * acc : s.Alpha * acc + s.Beta * c[ci];
    }

    /// <summary>Four accumulators of one output row, kept in registers.</summary>
    private struct Row4
    {
        public float X0, X1, X2, X3;

        public void Fma(float a, float b0, float b1, float b2, float b3)
        {
            X0 += a * b0;
            X1 += a * b1;
            X2 += a * b2;
            X3 += a * b3;
        }
    }
}
