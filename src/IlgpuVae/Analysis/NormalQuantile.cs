namespace IlgpuVae.Analysis;

/// <summary>
/// The standard normal distribution's inverse CDF (quantile function), by Wichura's algorithm AS 241 (PPND16,
/// Applied Statistics 37(3), 1988): rational approximations in three ranges, accurate to about 1e-16.
/// </summary>
internal static class NormalQuantile
{
    // Central range |p - 0.5| <= 0.425: x = q A(r) / B(r) with r = 0.180625 - q^2.
    private static readonly double[] A =
    [
        3.3871328727963666080, 1.3314166789178437745e2, 1.9715909503065514427e3, 1.3731693765509461125e4,
        4.5921953931549871457e4, 6.7265770927008700853e4, 3.3430575583588128105e4, 2.5090809287301226727e3,
    ];
    private static readonly double[] B =
    [
        1.0, 4.2313330701600911252e1, 6.8718700749205790830e2, 5.3941960214247511077e3,
        2.1213794301586595867e4, 3.9307895800092710610e4, 2.8729085735721942674e4, 5.2264952788528545610e3,
    ];
    // Tails with r = sqrt(-log(min(p, 1 - p))) <= 5: C(r - 1.6) / D(r - 1.6).
    private static readonly double[] C =
    [
        1.42343711074968357734, 4.63033784615654529590, 5.76949722146069140550, 3.64784832476320460504,
        1.27045825245236838258, 2.41780725177450611770e-1, 2.27238449892691845833e-2, 7.74545014278341407640e-4,
    ];
    private static readonly double[] D =
    [
        1.0, 2.05319162663775882187, 1.67638483018380384940, 6.89767334985100004550e-1,
        1.48103976427480074590e-1, 1.51986665636164571966e-2, 5.47593808499534494600e-4, 1.05075007164441684324e-9,
    ];
    // Far tails, r > 5 (p below about 1e-11): E(r - 5) / F(r - 5).
    private static readonly double[] E =
    [
        6.65790464350110377720, 5.46378491116411436990, 1.78482653991729133580, 2.96560571828504891230e-1,
        2.65321895265761230930e-2, 1.24266094738807843860e-3, 2.71155556874348757815e-5, 2.01033439929228813265e-7,
    ];
    private static readonly double[] F =
    [
        1.0, 5.99832206555887937690e-1, 1.36929880922735805310e-1, 1.48753612908506148525e-2,
        7.86869131145613259100e-4, 1.84631831751005468180e-5, 1.42151175831644588870e-7, 2.04426310338993978564e-15,
    ];

    /// <summary>The x with P(X &lt;= x) = <paramref name="p"/> for X ~ N(0, 1).</summary>
    /// <param name="p">A probability in (0, 1).</param>
    /// <returns>The quantile.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="p"/> is not strictly between 0 and 1.</exception>
    public static double InverseCdf(double p)
    {
        if (!(p > 0 && p < 1))
            throw new ArgumentOutOfRangeException(nameof(p), p, "a probability strictly between 0 and 1 is needed");
        double q = p - 0.5;
        if (Math.Abs(q) <= 0.425)
        {
            double r = 0.180625 - q * q;
            return q * Horner(A, r) / Horner(B, r);
        }
        double tail = Math.Sqrt(-Math.Log(q < 0 ? p : 1 - p));
        double x = tail <= 5 ? Horner(C, tail - 1.6) / Horner(D, tail - 1.6) : Horner(E, tail - 5) / Horner(F, tail - 5);
        return q < 0 ? -x : x;
    }

    /// <summary>
    /// <paramref name="count"/> grid coordinates equally spaced in probability, <c>InverseCdf((i + 1/2) / count)</c>
    /// for i = 0..count-1: the spacing Kingma and Welling use to draw a 2-D latent manifold, so that each cell
    /// covers the same prior mass. Ascending and symmetric about 0.
    /// </summary>
    /// <param name="count">Coordinates, at least 1.</param>
    /// <returns>The coordinates.</returns>
    public static double[] Grid(int count)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        var values = new double[count];
        for (int i = 0; i < count; i++)
            values[i] = InverseCdf((i + 0.5) / count);
        return values;
    }

    // c[0] + c[1] x + ... + c[7] x^7.
    private static double Horner(double[] c, double x)
    {
        double value = c[^1];
        for (int i = c.Length - 2; i >= 0; i--)
            value = value * x + c[i];
        return value;
    }
}
