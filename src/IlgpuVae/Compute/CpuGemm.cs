using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace IlgpuVae.Compute;

/// <summary>
/// Cache-blocked, packed single-precision GEMM on host memory, <c>C = alpha op(A) op(B) + beta C</c>, row-major.
/// op(B) is packed once per call into K x 32 column panels shared by the team; each member packs its own
/// 8-row strips of op(A) per K block and runs an 8 x 32 register-blocked micro-kernel (16 AVX-512 accumulators;
/// a Vector256 fallback elsewhere). Rows of C are split between members in whole strips, which divides the
/// VAE's M = 128, 400 and 784 evenly between two cores.
/// </summary>
internal sealed unsafe class CpuGemm : IDisposable
{
    private const int MR = 8;
    private const int NR = 32;
    private const int KcMax = 256;
    // Below this many multiply-adds the team's fork costs more than it saves.
    private const long ParallelThreshold = 1L << 18;

    private readonly CpuWorkers _workers;
    private float* _packedB;
    private long _packedBLength;
    // Packed op(A) for the single-threaded path; parallel chunks pack theirs on their own stacks.
    private float* _packedA;

    public CpuGemm(CpuWorkers workers)
    {
        _workers = workers;
        _packedA = (float*)NativeMemory.AlignedAlloc((nuint)(4096 / MR * MR * KcMax * sizeof(float)), 64);
    }

    public void Run(bool transA, bool transB, int m, int n, int k, float alpha, float* a, int lda,
        float* b, int ldb, float beta, float* c, int ldc)
    {
        if (m == 0 || n == 0)
            return;
        if (k == 0 || alpha == 0f)
        {
            ScaleC(m, n, beta, c, ldc);
            return;
        }
        int panels = (n + NR - 1) / NR;
        long bLength = (long)panels * NR * k;
        if (bLength > _packedBLength)
        {
            NativeMemory.AlignedFree(_packedB);
            _packedB = (float*)NativeMemory.AlignedAlloc((nuint)(bLength * sizeof(float)), 64);
            _packedBLength = bLength;
        }
        var job = new Job(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, _packedB, panels);
        int strips = (m + MR - 1) / MR;
        if ((long)m * n * k < ParallelThreshold || _workers.Count == 1)
        {
            PackB(job, 0, panels);
            Compute(job, 0, strips, _packedA);
            return;
        }
        // Two phases, each split into chunks that whichever thread is free claims: pack op(B) a few panels at a
        // time, then compute C a few row strips at a time (each chunk packs its own strips of op(A)).
        const int panelsPerChunk = 2, stripsPerChunk = 2;
        int packChunks = (panels + panelsPerChunk - 1) / panelsPerChunk;
        _workers.For(packChunks, chunk => PackB(job, chunk * panelsPerChunk, Math.Min(panels, (chunk + 1) * panelsPerChunk)));
        int computeChunks = (strips + stripsPerChunk - 1) / stripsPerChunk;
        _workers.For(computeChunks, chunk =>
        {
            float* packedA = stackalloc float[stripsPerChunk * MR * KcMax];
            Compute(job, chunk * stripsPerChunk, Math.Min(strips, (chunk + 1) * stripsPerChunk), packedA);
        });
    }

    private readonly struct Job(bool transA, bool transB, int m, int n, int k, float alpha, float* a, int lda,
        float* b, int ldb, float beta, float* c, int ldc, float* packedB, int panels)
    {
        public readonly bool TransA = transA, TransB = transB;
        public readonly int M = m, N = n, K = k, Lda = lda, Ldb = ldb, Ldc = ldc, Panels = panels;
        public readonly float Alpha = alpha, Beta = beta;
        public readonly float* A = a, B = b, C = c, PackedB = packedB;
    }

    private static void ScaleC(int m, int n, float beta, float* c, int ldc)
    {
        for (int i = 0; i < m; i++)
        {
            var row = new Span<float>(c + (long)i * ldc, n);
            if (beta == 0f)
                row.Clear();
            else
                System.Numerics.Tensors.TensorPrimitives.Multiply(row, beta, row);
        }
    }

    // Packed B: for K block starting at pc (length kc), panel j sits at PackedB + pc * Panels * NR + j * kc * NR,
    // laid out [p][0..NR) with zeros past N.
    private static void PackB(in Job job, int panelBegin, int panelEnd)
    {
        for (int pc = 0, kcStep = KBlock(job.K); pc < job.K; pc += kcStep)
        {
            int kc = Math.Min(kcStep, job.K - pc);
            float* blockBase = job.PackedB + (long)pc * job.Panels * NR;
            for (int panel = panelBegin; panel < panelEnd; panel++)
            {
                float* dst = blockBase + (long)panel * kc * NR;
                int j0 = panel * NR, width = Math.Min(NR, job.N - j0);
                if (!job.TransB)
                {
                    for (int p = 0; p < kc; p++)
                    {
                        float* src = job.B + (long)(pc + p) * job.Ldb + j0;
                        float* d = dst + p * NR;
                        if (width == NR)
                        {
                            Unsafe.CopyBlockUnaligned(d, src, NR * sizeof(float));
                        }
                        else
                        {
                            for (int jj = 0; jj < width; jj++) d[jj] = src[jj];
                            for (int jj = width; jj < NR; jj++) d[jj] = 0f;
                        }
                    }
                }
                else
                {
                    // op(B)[p, j] = b[j * ldb + p]: rows of the stored matrix become columns of the panel.
                    for (int jj = 0; jj < NR; jj += 8)
                    {
                        int rows = Math.Clamp(width - jj, 0, 8);
                        TransposeInto(job.B + (long)(j0 + jj) * job.Ldb + pc, job.Ldb, rows, kc, dst + jj, NR);
                    }
                }
            }
        }
    }

    // Writes dst[p * ldd + q] = src[q * lds + p] for q < rows (and 0 for rows <= q < 8), p < count:
    // 8 x 8 blocks go through registers (AVX), the rest element by element.
    private static void TransposeInto(float* src, int lds, int rows, int count, float* dst, int ldd)
    {
        int p = 0;
        if (rows == 8 && Avx.IsSupported)
        {
            for (; p <= count - 8; p += 8)
                Transpose8x8(src + p, lds, dst + (long)p * ldd, ldd);
        }
        for (; p < count; p++)
        {
            float* d = dst + (long)p * ldd;
            for (int q = 0; q < 8; q++)
                d[q] = q < rows ? src[(long)q * lds + p] : 0f;
        }
    }

    /// <summary>dst[c * ldd + r] = src[r * lds + c] for an 8 x 8 block, through registers (needs AVX).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Transpose8x8(float* src, int lds, float* dst, int ldd)
    {
        var r0 = Avx.LoadVector256(src);
        var r1 = Avx.LoadVector256(src + lds);
        var r2 = Avx.LoadVector256(src + 2L * lds);
        var r3 = Avx.LoadVector256(src + 3L * lds);
        var r4 = Avx.LoadVector256(src + 4L * lds);
        var r5 = Avx.LoadVector256(src + 5L * lds);
        var r6 = Avx.LoadVector256(src + 6L * lds);
        var r7 = Avx.LoadVector256(src + 7L * lds);
        var t0 = Avx.UnpackLow(r0, r1);
        var t1 = Avx.UnpackHigh(r0, r1);
        var t2 = Avx.UnpackLow(r2, r3);
        var t3 = Avx.UnpackHigh(r2, r3);
        var t4 = Avx.UnpackLow(r4, r5);
        var t5 = Avx.UnpackHigh(r4, r5);
        var t6 = Avx.UnpackLow(r6, r7);
        var t7 = Avx.UnpackHigh(r6, r7);
        var s0 = Avx.Shuffle(t0, t2, 0x44);
        var s1 = Avx.Shuffle(t0, t2, 0xEE);
        var s2 = Avx.Shuffle(t1, t3, 0x44);
        var s3 = Avx.Shuffle(t1, t3, 0xEE);
        var s4 = Avx.Shuffle(t4, t6, 0x44);
        var s5 = Avx.Shuffle(t4, t6, 0xEE);
        var s6 = Avx.Shuffle(t5, t7, 0x44);
        var s7 = Avx.Shuffle(t5, t7, 0xEE);
        Avx.Store(dst, Avx.Permute2x128(s0, s4, 0x20));
        Avx.Store(dst + ldd, Avx.Permute2x128(s1, s5, 0x20));
        Avx.Store(dst + 2L * ldd, Avx.Permute2x128(s2, s6, 0x20));
        Avx.Store(dst + 3L * ldd, Avx.Permute2x128(s3, s7, 0x20));
        Avx.Store(dst + 4L * ldd, Avx.Permute2x128(s0, s4, 0x31));
        Avx.Store(dst + 5L * ldd, Avx.Permute2x128(s1, s5, 0x31));
        Avx.Store(dst + 6L * ldd, Avx.Permute2x128(s2, s6, 0x31));
        Avx.Store(dst + 7L * ldd, Avx.Permute2x128(s3, s7, 0x31));
    }

    // K blocks of equal size up to KcMax: 784 = 4 x 196 rather than 3 x 256 + 16, whose last block would pay
    // a full pass over C for 16 multiply-adds per element.
    private static int KBlock(int k) => (k + (k + KcMax - 1) / KcMax - 1) / ((k + KcMax - 1) / KcMax);

    private static void PackA(in Job job, int strip, int pc, int kc, float* dst)
    {
        int i0 = strip * MR, height = Math.Min(MR, job.M - i0);
        if (!job.TransA)
        {
            // op(A)[i, p] = a[i * lda + p]: the strip's rows become the panel's columns.
            TransposeInto(job.A + (long)i0 * job.Lda + pc, job.Lda, height, kc, dst, MR);
        }
        else
        {
            for (int p = 0; p < kc; p++)
            {
                float* src = job.A + (long)(pc + p) * job.Lda + i0;
                float* d = dst + p * MR;
                if (height == MR)
                {
                    Unsafe.CopyBlockUnaligned(d, src, MR * sizeof(float));
                }
                else
                {
                    for (int ii = 0; ii < height; ii++) d[ii] = src[ii];
                    for (int ii = height; ii < MR; ii++) d[ii] = 0f;
                }
            }
        }
    }

    private static void Compute(in Job job, int stripBegin, int stripEnd, float* packedA)
    {
        const int stripsPerBlock = 4096 / MR;
        for (int pc = 0, kcStep = KBlock(job.K); pc < job.K; pc += kcStep)
        {
            int kc = Math.Min(kcStep, job.K - pc);
            bool first = pc == 0;
            float* blockB = job.PackedB + (long)pc * job.Panels * NR;
            for (int s0 = stripBegin; s0 < stripEnd; s0 += stripsPerBlock)
            {
                int s1 = Math.Min(stripEnd, s0 + stripsPerBlock);
                for (int s = s0; s < s1; s++)
                    PackA(job, s, pc, kc, packedA + (long)(s - s0) * kc * MR);
                for (int panel = 0; panel < job.Panels; panel++)
                {
                    float* bp = blockB + (long)panel * kc * NR;
                    int j0 = panel * NR, cols = Math.Min(NR, job.N - j0);
                    for (int s = s0; s < s1; s++)
                    {
                        int i0 = s * MR, rows = Math.Min(MR, job.M - i0);
                        float* cTile = job.C + (long)i0 * job.Ldc + j0;
                        float* ap = packedA + (long)(s - s0) * kc * MR;
                        float beta = first ? job.Beta : 1f;
                        if (Avx512F.IsSupported)
                            Kernel512(kc, ap, bp, cTile, job.Ldc, rows, cols, job.Alpha, beta);
                        else
                            KernelPortable(kc, ap, bp, cTile, job.Ldc, rows, cols, job.Alpha, beta);
                    }
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel512(int kc, float* a, float* b, float* c, int ldc, int rows, int cols, float alpha, float beta)
    {
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default,
            c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default,
            c60 = default, c61 = default, c70 = default, c71 = default;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector512.Load(b);
            var b1 = Vector512.Load(b + 16);
            var x = Vector512.Create(a[0]);
            c00 = Avx512F.FusedMultiplyAdd(x, b0, c00); c01 = Avx512F.FusedMultiplyAdd(x, b1, c01);
            x = Vector512.Create(a[1]);
            c10 = Avx512F.FusedMultiplyAdd(x, b0, c10); c11 = Avx512F.FusedMultiplyAdd(x, b1, c11);
            x = Vector512.Create(a[2]);
            c20 = Avx512F.FusedMultiplyAdd(x, b0, c20); c21 = Avx512F.FusedMultiplyAdd(x, b1, c21);
            x = Vector512.Create(a[3]);
            c30 = Avx512F.FusedMultiplyAdd(x, b0, c30); c31 = Avx512F.FusedMultiplyAdd(x, b1, c31);
            x = Vector512.Create(a[4]);
            c40 = Avx512F.FusedMultiplyAdd(x, b0, c40); c41 = Avx512F.FusedMultiplyAdd(x, b1, c41);
            x = Vector512.Create(a[5]);
            c50 = Avx512F.FusedMultiplyAdd(x, b0, c50); c51 = Avx512F.FusedMultiplyAdd(x, b1, c51);
            x = Vector512.Create(a[6]);
            c60 = Avx512F.FusedMultiplyAdd(x, b0, c60); c61 = Avx512F.FusedMultiplyAdd(x, b1, c61);
            x = Vector512.Create(a[7]);
            c70 = Avx512F.FusedMultiplyAdd(x, b0, c70); c71 = Avx512F.FusedMultiplyAdd(x, b1, c71);
            a += MR;
            b += NR;
        }
        if (rows == MR && cols == NR)
        {
            Store512(c, c00, c01, alpha, beta);
            Store512(c + ldc, c10, c11, alpha, beta);
            Store512(c + 2 * ldc, c20, c21, alpha, beta);
            Store512(c + 3 * ldc, c30, c31, alpha, beta);
            Store512(c + 4 * ldc, c40, c41, alpha, beta);
            Store512(c + 5 * ldc, c50, c51, alpha, beta);
            Store512(c + 6 * ldc, c60, c61, alpha, beta);
            Store512(c + 7 * ldc, c70, c71, alpha, beta);
            return;
        }
        float* tile = stackalloc float[MR * NR];
        c00.Store(tile); c01.Store(tile + 16); c10.Store(tile + 32); c11.Store(tile + 48);
        c20.Store(tile + 64); c21.Store(tile + 80); c30.Store(tile + 96); c31.Store(tile + 112);
        c40.Store(tile + 128); c41.Store(tile + 144); c50.Store(tile + 160); c51.Store(tile + 176);
        c60.Store(tile + 192); c61.Store(tile + 208); c70.Store(tile + 224); c71.Store(tile + 240);
        // An edge tile (N = 16, the one-channel convolutions' patch, makes every tile one): each row's columns under
        // masks that neither read nor write past the matrix.
        var lanes = Vector512.Create(0f, 1f, 2f, 3f, 4f, 5f, 6f, 7f, 8f, 9f, 10f, 11f, 12f, 13f, 14f, 15f);
        var maskLo = Vector512.LessThan(lanes, Vector512.Create((float)cols));
        var maskHi = Vector512.LessThan(lanes, Vector512.Create((float)(cols - 16)));
        var va = Vector512.Create(alpha);
        var vb = Vector512.Create(beta);
        for (int r = 0; r < rows; r++)
        {
            float* row = c + (long)r * ldc;
            var lo = Vector512.Load(tile + r * NR) * va;
            var hi = Vector512.Load(tile + r * NR + 16) * va;
            if (beta != 0f)
            {
                // alpha t + beta c rounded as StorePartial rounds it (no fused multiply-add): results stay bit-identical.
                lo += Avx512F.MaskLoad(row, maskLo, Vector512<float>.Zero) * vb;
                hi += Avx512F.MaskLoad(row + 16, maskHi, Vector512<float>.Zero) * vb;
            }
            Avx512F.MaskStore(row, maskLo, lo);
            Avx512F.MaskStore(row + 16, maskHi, hi);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store512(float* c, Vector512<float> lo, Vector512<float> hi, float alpha, float beta)
    {
        var va = Vector512.Create(alpha);
        if (beta == 0f)
        {
            (lo * va).Store(c);
            (hi * va).Store(c + 16);
        }
        else
        {
            var vb = Vector512.Create(beta);
            Avx512F.FusedMultiplyAdd(lo, va, Vector512.Load(c) * vb).Store(c);
            Avx512F.FusedMultiplyAdd(hi, va, Vector512.Load(c + 16) * vb).Store(c + 16);
        }
    }

    private static void KernelPortable(int kc, float* a, float* b, float* c, int ldc, int rows, int cols, float alpha, float beta)
    {
        float* tile = stackalloc float[MR * NR];
        new Span<float>(tile, MR * NR).Clear();
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector256.Load(b);
            var b1 = Vector256.Load(b + 8);
            var b2 = Vector256.Load(b + 16);
            var b3 = Vector256.Load(b + 24);
            for (int r = 0; r < MR; r++)
            {
                var x = Vector256.Create(a[r]);
                float* t = tile + r * NR;
                (Vector256.Load(t) + x * b0).Store(t);
                (Vector256.Load(t + 8) + x * b1).Store(t + 8);
                (Vector256.Load(t + 16) + x * b2).Store(t + 16);
                (Vector256.Load(t + 24) + x * b3).Store(t + 24);
            }
            a += MR;
            b += NR;
        }
        StorePartial(tile, c, ldc, rows, cols, alpha, beta);
    }

    private static void StorePartial(float* tile, float* c, int ldc, int rows, int cols, float alpha, float beta)
    {
        for (int r = 0; r < rows; r++)
        {
            float* row = c + (long)r * ldc;
            for (int j = 0; j < cols; j++)
                row[j] = beta == 0f ? alpha * tile[r * NR + j] : alpha * tile[r * NR + j] + beta * row[j];
        }
    }

    public void Dispose()
    {
        NativeMemory.AlignedFree(_packedB);
        _packedB = null;
        NativeMemory.AlignedFree(_packedA);
        _packedA = null;
    }
}
