namespace CaptionDaemon.Training.Calibration;

/// <summary>A fitted logistic regression: P(y = 1 | x) = sigmoid(<see cref="Bias"/> + sum of <see cref="Weights"/>[i] x x[i]).</summary>
/// <param name="Weights">One weight per feature.</param>
/// <param name="Bias">The intercept.</param>
/// <param name="Iterations">Newton steps taken.</param>
internal sealed record LogisticFit(double[] Weights, double Bias, int Iterations);

/// <summary>
/// Logistic regression by Newton's method (iteratively reweighted least squares) with an L2 penalty on the weights,
/// not on the bias: minimises -sum(y ln p + (1 - y) ln(1 - p)) + penalty / 2 x |w|^2.
/// </summary>
/// <remarks>
/// Written here rather than taken from a library: a calibration has a bias and at most three weights, which Newton's
/// method fits exactly in a handful of 4 x 4 solves. ML.NET or a numerics package would add a large dependency and a
/// second numerics stack beside TorchSharp for that, and TorchSharp's optimisers are first-order (a learning rate and
/// thousands of steps for what Newton does in ten). The penalty keeps the weights finite when the validation windows
/// are separable by the features (a model that names nothing in quiet windows and everything elsewhere).
/// </remarks>
internal static class LogisticRegression
{
    /// <summary>The default L2 penalty: light next to a log-loss summed over hundreds of windows.</summary>
    public const double DefaultPenalty = 1.0;

    private const int MaxIterations = 100;
    private const double Tolerance = 1e-10;

    /// <summary>Fits the weights and bias to <paramref name="features"/> (one row per example) and <paramref name="targets"/>.</summary>
    /// <exception cref="ArgumentException">
    /// No examples, rows of different widths, a non-finite feature, or targets all of one value (the bias would have no
    /// finite optimum: the message says which value).
    /// </exception>
    public static LogisticFit Fit(IReadOnlyList<double[]> features, IReadOnlyList<bool> targets, double penalty = DefaultPenalty)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(targets);
        ArgumentOutOfRangeException.ThrowIfNegative(penalty);
        if (features.Count == 0 || features.Count != targets.Count)
        {
            throw new ArgumentException($"Need one target per example and at least one example (got {features.Count} examples, {targets.Count} targets).", nameof(targets));
        }

        var width = features[0].Length;
        if (features.Any(f => f.Length != width || f.Any(v => !double.IsFinite(v))))
        {
            throw new ArgumentException($"Every example needs {width} finite features.", nameof(features));
        }

        var positives = targets.Count(t => t);
        if (positives == 0 || positives == targets.Count)
        {
            throw new ArgumentException(
                $"All {targets.Count} targets are {(positives == 0 ? "0" : "1")}: a logistic fit needs examples of both outcomes.", nameof(targets));
        }

        // Parameter 0 is the bias, 1.. the weights.
        var n = width + 1;
        var beta = new double[n];
        beta[0] = Math.Log((double)positives / (targets.Count - positives));
        var loss = Loss(features, targets, beta, penalty);
        for (var iteration = 1; iteration <= MaxIterations; iteration++)
        {
            var (gradient, hessian) = Derivatives(features, targets, beta, penalty);
            var step = Solve(hessian, gradient);

            // Newton's step, halved while it does not lower the loss (it always does near the optimum).
            var scale = 1.0;
            double[] next;
            double nextLoss;
            do
            {
                next = [.. beta.Select((b, i) => b - (scale * step[i]))];
                nextLoss = Loss(features, targets, next, penalty);
                scale /= 2;
            }
            while (nextLoss > loss && scale > 1e-6);

            var change = beta.Zip(next, (a, b) => Math.Abs(a - b)).Max();
            beta = next;
            loss = Math.Min(loss, nextLoss);
            if (change < Tolerance)
            {
                return new LogisticFit(beta[1..], beta[0], iteration);
            }
        }

        return new LogisticFit(beta[1..], beta[0], MaxIterations);
    }

    private static double Sigmoid(double z) => z >= 0 ? 1 / (1 + Math.Exp(-z)) : Math.Exp(z) / (1 + Math.Exp(z));

    private static double Linear(double[] x, double[] beta)
    {
        var z = beta[0];
        for (var j = 0; j < x.Length; j++)
        {
            z += beta[j + 1] * x[j];
        }

        return z;
    }

    private static double Loss(IReadOnlyList<double[]> features, IReadOnlyList<bool> targets, double[] beta, double penalty)
    {
        var loss = 0.0;
        for (var i = 0; i < features.Count; i++)
        {
            // ln(1 + e^z) - y z, written so that large |z| neither overflows nor loses the small term.
            var z = Linear(features[i], beta);
            loss += Math.Max(z, 0) + Math.Log(1 + Math.Exp(-Math.Abs(z))) - (targets[i] ? z : 0);
        }

        for (var j = 1; j < beta.Length; j++)
        {
            loss += penalty / 2 * beta[j] * beta[j];
        }

        return loss;
    }

    private static (double[] Gradient, double[,] Hessian) Derivatives(IReadOnlyList<double[]> features, IReadOnlyList<bool> targets, double[] beta, double penalty)
    {
        var n = beta.Length;
        var gradient = new double[n];
        var hessian = new double[n, n];
        Span<double> row = stackalloc double[n];
        for (var i = 0; i < features.Count; i++)
        {
            row[0] = 1;
            features[i].CopyTo(row[1..]);
            var p = Sigmoid(Linear(features[i], beta));
            var residual = p - (targets[i] ? 1 : 0);
            var weight = p * (1 - p);
            for (var a = 0; a < n; a++)
            {
                gradient[a] += residual * row[a];
                for (var b = 0; b < n; b++)
                {
                    hessian[a, b] += weight * row[a] * row[b];
                }
            }
        }

        for (var j = 1; j < n; j++)
        {
            gradient[j] += penalty * beta[j];
            hessian[j, j] += penalty;
        }

        return (gradient, hessian);
    }

    /// <summary>Solves A x = b by Gaussian elimination with partial pivoting (A is tiny and, with the penalty, positive definite).</summary>
    private static double[] Solve(double[,] a, double[] b)
    {
        var n = b.Length;
        var m = (double[,])a.Clone();
        var x = (double[])b.Clone();
        for (var col = 0; col < n; col++)
        {
            var pivot = col;
            for (var r = col + 1; r < n; r++)
            {
                if (Math.Abs(m[r, col]) > Math.Abs(m[pivot, col]))
                {
                    pivot = r;
                }
            }

            if (Math.Abs(m[pivot, col]) < 1e-300)
            {
                // Singular (a constant feature without penalty): leave this direction unchanged.
                m[pivot, col] = 1;
            }

            if (pivot != col)
            {
                for (var c = 0; c < n; c++)
                {
                    (m[col, c], m[pivot, c]) = (m[pivot, c], m[col, c]);
                }

                (x[col], x[pivot]) = (x[pivot], x[col]);
            }

            for (var r = col + 1; r < n; r++)
            {
                var factor = m[r, col] / m[col, col];
                for (var c = col; c < n; c++)
                {
                    m[r, c] -= factor * m[col, c];
                }

                x[r] -= factor * x[col];
            }
        }

        for (var r = n - 1; r >= 0; r--)
        {
            for (var c = r + 1; c < n; c++)
            {
                x[r] -= m[r, c] * x[c];
            }

            x[r] /= m[r, r];
        }

        return x;
    }
}
