using ILGPU;

namespace IlgpuVae.Kernels;

/// <summary>
/// Shape and scalars of one GEMM launch, <c>C = alpha op(A) op(B) + beta C</c>, all row-major.
/// op(A) is M x K, op(B) is K x N and C is M x N. The element strides encode the transposes:
/// op(A)[i, p] = a[i * ARow + p * ACol], op(B)[p, j] = b[p * BRow + j * BCol], C[i, j] = c[i * Ldc + j].
/// </summary>
internal struct GemmShape
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
    /// <summary>What happens to each product before it is stored: a <see cref="GemmEpilogue"/> as an int.</summary>
    public int Epilogue;
    /// <summary>The <see cref="IlgpuVae.Kernels.Activation"/> (as an int) of the epilogue.</summary>
    public int Activation;
    /// <summary>Leading dimension of the epilogue's auxiliary matrix (the activation output it differentiates).</summary>
    public int AuxLd;

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
/// What a GEMM does with each product v = alpha (op(A) op(B))[i, j] + beta C[i, j] (beta C only when beta is not 0)
/// before storing it, so that a linear layer's bias, activation and their gradients cost no launches of their own.
/// </summary>
internal enum GemmEpilogue
{
    /// <summary><c>C[i, j] = v</c>.</summary>
    None = 0,
    /// <summary><c>C[i, j] = f(v + bias[j])</c>: a linear layer's forward.</summary>
    BiasActivation = 1,
    /// <summary>
    /// <c>C[i, j] = v f'(aux[i AuxLd + j])</c> with f' written through the activation's output (ReLU' = [y &gt; 0],
    /// sigmoid' = y (1 - y), tanh' = 1 - y^2): an input gradient that goes on through the activation below.
    /// </summary>
    ActivationBackward = 2,
    /// <summary>
    /// <c>C[i, j] = v</c> and <c>bias[i] += alpha sum_p op(A)[i, p]</c>: a weight gradient dy^T x that also adds the
    /// bias gradient, the column sums of dy, in a fixed order.
    /// </summary>
    BiasGradient = 3,
}

/// <summary>
/// General matrix products <c>C = alpha op(A) op(B) + beta C</c> (theory: docs/theory.md, "Linear layer").
/// The linear layer's forward is NT (x W^T), its input gradient NN (dy W) and its weight gradient TN (dy^T x).
/// </summary>
internal static class GemmKernels
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
    /// <param name="bias">The epilogue's bias (N) or bias gradient (M); any view otherwise.</param>
    /// <param name="aux">The epilogue's activation output (M x N, row stride AuxLd); any view otherwise.</param>
    /// <param name="s">Shape, scalars and epilogue.</param>
    public static void GemmGridStrideKernel(Index1D index, int stride,
        ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, ArrayView<float> bias, ArrayView<float> aux,
        GemmShape s)
    {
        int total = s.M * s.N;
        for (int e = index; e < total; e += stride)
        {
            int i = e / s.N, j = e - i * s.N;
            int ai = i * s.ARow, bj = j * s.BCol;
            float acc = 0f;
            for (int p = 0; p < s.K; p++)
                acc += a[ai + p * s.ACol] * b[p * s.BRow + bj];
            StoreOne(c, bias, aux, s, i, j, acc);
            if (s.Epilogue == (int)GemmEpilogue.BiasGradient && j == 0)
            {
                float sum = 0f;
                for (int p = 0; p < s.K; p++)
                    sum += a[ai + p * s.ACol];
                bias[i] += s.Alpha * sum;
            }
        }
    }

    /// <summary>
    /// Shared-memory, register-tiled GEMM for GPUs with 64 x 64 tiles of C. A group of 16 x 16 threads computes one
    /// tile, each thread a 4 x 4 block at rows ty + 16 r and columns tx + 16 q (so shared-memory reads of a warp are
    /// consecutive or broadcast). The next K tile is loaded into registers while the current one is multiplied.
    /// Launch with grid (ceil(N / 64), ceil(M / 64)) and group (16, 16).
    /// </summary>
    /// <param name="a">op(A) storage, M x K after the transpose.</param>
    /// <param name="b">op(B) storage, K x N after the transpose.</param>
    /// <param name="c">C, M x N with row stride Ldc.</param>
    /// <param name="bias">The epilogue's bias (N) or bias gradient (M); any view otherwise.</param>
    /// <param name="aux">The epilogue's activation output (M x N, row stride AuxLd); any view otherwise.</param>
    /// <param name="s">Shape, scalars and epilogue.</param>
    public static void GemmTiledKernel(ArrayView<float> a, ArrayView<float> b, ArrayView<float> c,
        ArrayView<float> bias, ArrayView<float> aux, GemmShape s)
    {
        var tileA = SharedMemory.Allocate<float>(TileK * TileM); // [k][m]
        var tileB = SharedMemory.Allocate<float>(TileK * TileN); // [k][n]
        Tiled(a, b, c, bias, aux, s, tileA, tileB, TileM, TileN);
    }

    /// <summary>
    /// The same GEMM with 32 x 32 tiles, each thread a 2 x 2 block: four times the groups of
    /// <see cref="GemmTiledKernel"/>, for products too small to fill a GPU with 64 x 64 tiles (a batch of 128 rows
    /// gives only 2 tile rows). Launch with grid (ceil(N / 32), ceil(M / 32)) and group (16, 16).
    /// </summary>
    /// <param name="a">op(A) storage, M x K after the transpose.</param>
    /// <param name="b">op(B) storage, K x N after the transpose.</param>
    /// <param name="c">C, M x N with row stride Ldc.</param>
    /// <param name="bias">The epilogue's bias (N) or bias gradient (M); any view otherwise.</param>
    /// <param name="aux">The epilogue's activation output (M x N, row stride AuxLd); any view otherwise.</param>
    /// <param name="s">Shape, scalars and epilogue.</param>
    public static void GemmSmallTiledKernel(ArrayView<float> a, ArrayView<float> b, ArrayView<float> c,
        ArrayView<float> bias, ArrayView<float> aux, GemmShape s)
    {
        var tileA = SharedMemory.Allocate<float>(TileK * SmallTile);
        var tileB = SharedMemory.Allocate<float>(TileK * SmallTile);
        Tiled(a, b, c, bias, aux, s, tileA, tileB, SmallTile, SmallTile);
    }

    /// <summary>Side of the small tile of <see cref="GemmSmallTiledKernel"/>.</summary>
    public const int SmallTile = 32;

    // The body of both tiled kernels; tileM and tileN are constants at each call, so the branches on them fold away.
    private static void Tiled(ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, ArrayView<float> bias,
        ArrayView<float> aux, GemmShape s, ArrayView<float> tileA, ArrayView<float> tileB, int tileM, int tileN)
    {
        int tx = Group.IdxX, ty = Group.IdxY;
        int thread = ty * GroupSide + tx;
        int row0 = Grid.IdxY * tileM, col0 = Grid.IdxX * tileN;
        // When A's K index is contiguous (ACol == 1), let neighbouring threads walk K so loads coalesce.
        bool aAlongK = s.ACol == 1;
        bool bAlongN = s.BCol == 1;
        // The bias gradient (row sums of op(A)) is the job of the first column of groups, thread column 0.
        bool sumRows = s.Epilogue == (int)GemmEpilogue.BiasGradient && Grid.IdxX == 0 && tx == 0;
        bool four = tileM == TileM;

        // Registers holding the next K tile: each thread loads tileM * TileK / 256 elements of A and of B.
        float pa0 = 0f, pa1 = 0f, pa2 = 0f, pa3 = 0f, pb0 = 0f, pb1 = 0f, pb2 = 0f, pb3 = 0f;
        LoadA(a, s, thread, row0, 0, aAlongK, tileM, ref pa0, ref pa1, ref pa2, ref pa3);
        LoadB(b, s, thread, col0, 0, bAlongN, tileN, ref pb0, ref pb1, ref pb2, ref pb3);

        Row4 r0 = default, r1 = default, r2 = default, r3 = default;
        Row4 sums = default;
        for (int k0 = 0; k0 < s.K; k0 += TileK)
        {
            StoreA(tileA, thread, aAlongK, tileM, pa0, pa1, pa2, pa3);
            StoreB(tileB, thread, bAlongN, tileN, pb0, pb1, pb2, pb3);
            Group.Barrier();
            if (k0 + TileK < s.K)
            {
                LoadA(a, s, thread, row0, k0 + TileK, aAlongK, tileM, ref pa0, ref pa1, ref pa2, ref pa3);
                LoadB(b, s, thread, col0, k0 + TileK, bAlongN, tileN, ref pb0, ref pb1, ref pb2, ref pb3);
            }
            for (int kk = 0; kk < TileK; kk++)
            {
                int ka = kk * tileM + ty, kb = kk * tileN + tx;
                if (four)
                {
                    float b0 = tileB[kb], b1 = tileB[kb + 16], b2 = tileB[kb + 32], b3 = tileB[kb + 48];
                    r0.Fma(tileA[ka], b0, b1, b2, b3);
                    r1.Fma(tileA[ka + 16], b0, b1, b2, b3);
                    r2.Fma(tileA[ka + 32], b0, b1, b2, b3);
                    r3.Fma(tileA[ka + 48], b0, b1, b2, b3);
                }
                else
                {
                    float b0 = tileB[kb], b1 = tileB[kb + 16];
                    r0.Fma2(tileA[ka], b0, b1);
                    r1.Fma2(tileA[ka + 16], b0, b1);
                }
            }
            if (sumRows)
            {
                // Padding outside K is zero, so whole tiles can be summed.
                for (int kk = 0; kk < TileK; kk++)
                {
                    int ka = kk * tileM + ty;
                    sums.X0 += tileA[ka];
                    sums.X1 += tileA[ka + 16];
                    if (four)
                    {
                        sums.X2 += tileA[ka + 32];
                        sums.X3 += tileA[ka + 48];
                    }
                }
            }
            Group.Barrier();
        }
        Store(c, bias, aux, s, row0 + ty, col0 + tx, r0, four);
        Store(c, bias, aux, s, row0 + ty + 16, col0 + tx, r1, four);
        if (four)
        {
            Store(c, bias, aux, s, row0 + ty + 32, col0 + tx, r2, four);
            Store(c, bias, aux, s, row0 + ty + 48, col0 + tx, r3, four);
        }
        if (sumRows)
        {
            AddRowSum(bias, s, row0 + ty, sums.X0);
            AddRowSum(bias, s, row0 + ty + 16, sums.X1);
            if (four)
            {
                AddRowSum(bias, s, row0 + ty + 32, sums.X2);
                AddRowSum(bias, s, row0 + ty + 48, sums.X3);
            }
        }
    }

    // Element e of a TileK x tileM tile of op(A): its (kk, mm) position, walking K or M fastest.
    private static float ElementA(ArrayView<float> a, GemmShape s, int e, int row0, int k0, bool aAlongK, int tileM)
    {
        int kk = aAlongK ? e % TileK : e / tileM;
        int mm = aAlongK ? e / TileK : e % tileM;
        int i = row0 + mm, p = k0 + kk;
        return i < s.M && p < s.K ? a[i * s.ARow + p * s.ACol] : 0f;
    }

    private static float ElementB(ArrayView<float> b, GemmShape s, int e, int col0, int k0, bool bAlongN, int tileN)
    {
        int kk = bAlongN ? e / tileN : e % TileK;
        int nn = bAlongN ? e % tileN : e / TileK;
        int j = col0 + nn, p = k0 + kk;
        return j < s.N && p < s.K ? b[p * s.BRow + j * s.BCol] : 0f;
    }

    private static int IndexA(int e, bool aAlongK, int tileM) =>
        aAlongK ? (e % TileK) * tileM + e / TileK : e;

    private static int IndexB(int e, bool bAlongN, int tileN) =>
        bAlongN ? e : (e % TileK) * tileN + e / TileK;

    private const int Threads = GroupSide * GroupSide;

    private static void LoadA(ArrayView<float> a, GemmShape s, int thread, int row0, int k0, bool aAlongK, int tileM,
        ref float p0, ref float p1, ref float p2, ref float p3)
    {
        p0 = ElementA(a, s, thread, row0, k0, aAlongK, tileM);
        p1 = ElementA(a, s, thread + Threads, row0, k0, aAlongK, tileM);
        if (tileM == TileM)
        {
            p2 = ElementA(a, s, thread + 2 * Threads, row0, k0, aAlongK, tileM);
            p3 = ElementA(a, s, thread + 3 * Threads, row0, k0, aAlongK, tileM);
        }
    }

    private static void LoadB(ArrayView<float> b, GemmShape s, int thread, int col0, int k0, bool bAlongN, int tileN,
        ref float p0, ref float p1, ref float p2, ref float p3)
    {
        p0 = ElementB(b, s, thread, col0, k0, bAlongN, tileN);
        p1 = ElementB(b, s, thread + Threads, col0, k0, bAlongN, tileN);
        if (tileN == TileN)
        {
            p2 = ElementB(b, s, thread + 2 * Threads, col0, k0, bAlongN, tileN);
            p3 = ElementB(b, s, thread + 3 * Threads, col0, k0, bAlongN, tileN);
        }
    }

    private static void StoreA(ArrayView<float> tile, int thread, bool aAlongK, int tileM, float p0, float p1, float p2, float p3)
    {
        tile[IndexA(thread, aAlongK, tileM)] = p0;
        tile[IndexA(thread + Threads, aAlongK, tileM)] = p1;
        if (tileM == TileM)
        {
            tile[IndexA(thread + 2 * Threads, aAlongK, tileM)] = p2;
            tile[IndexA(thread + 3 * Threads, aAlongK, tileM)] = p3;
        }
    }

    private static void StoreB(ArrayView<float> tile, int thread, bool bAlongN, int tileN, float p0, float p1, float p2, float p3)
    {
        tile[IndexB(thread, bAlongN, tileN)] = p0;
        tile[IndexB(thread + Threads, bAlongN, tileN)] = p1;
        if (tileN == TileN)
        {
            tile[IndexB(thread + 2 * Threads, bAlongN, tileN)] = p2;
            tile[IndexB(thread + 3 * Threads, bAlongN, tileN)] = p3;
        }
    }

    private static void AddRowSum(ArrayView<float> bias, GemmShape s, int i, float sum)
    {
        if (i < s.M)
            bias[i] += s.Alpha * sum;
    }

    private static void Store(ArrayView<float> c, ArrayView<float> bias, ArrayView<float> aux, GemmShape s, int i, int j,
        Row4 r, bool four)
    {
        if (i >= s.M)
            return;
        StoreOne(c, bias, aux, s, i, j, r.X0);
        StoreOne(c, bias, aux, s, i, j + 16, r.X1);
        if (four)
        {
            StoreOne(c, bias, aux, s, i, j + 32, r.X2);
            StoreOne(c, bias, aux, s, i, j + 48, r.X3);
        }
    }

    private static void StoreOne(ArrayView<float> c, ArrayView<float> bias, ArrayView<float> aux, GemmShape s,
        int i, int j, float acc)
    {
        if (i >= s.M || j >= s.N)
            return;
        int ci = i * s.Ldc + j;
        float v = s.Beta == 0f ? s.Alpha * acc : s.Alpha * acc + s.Beta * c[ci];
        if (s.Epilogue == (int)GemmEpilogue.BiasActivation)
            v = ElementwiseKernels.Apply(v + bias[j], s.Activation);
        else if (s.Epilogue == (int)GemmEpilogue.ActivationBackward)
            v *= ElementwiseKernels.Derivative(aux[i * s.AuxLd + j], s.Activation);
        c[ci] = v;
    }

    /// <summary>Four accumulators of one output row, kept in registers.</summary>
    private struct Row4
    {
        public float X0, X1, X2, X3;

        public void Fma2(float a, float b0, float b1)
        {
            X0 += a * b0;
            X1 += a * b1;
        }

        public void Fma(float a, float b0, float b1, float b2, float b3)
        {
            X0 += a * b0;
            X1 += a * b1;
            X2 += a * b2;
            X3 += a * b3;
        }
    }
}
