import Foundation
import ForkcastModel

/// Fits the Universal Scalability Law (or Amdahl's law) to speedups by least squares.
///
/// USL: S(N) = N / (1 + σ(N−1) + κN(N−1)), 0 ≤ σ ≤ 1 (contention), κ ≥ 0 (coherency).
/// Amdahl is the same with κ = 0. The fit minimizes Σ (S_i − S(N_i))² over the
/// constrained parameters: a linearized least-squares start (N/S − 1 = σ(N−1) + κN(N−1)),
/// refined by Nelder–Mead on the real residuals.
public enum ScalingModel {
    public static func usl(_ n: Double, sigma: Double, kappa: Double) -> Double {
        n / (1 + sigma * (n - 1) + kappa * n * (n - 1))
    }

    /// The fitted parameters and the root-mean-square residual.
    public struct Fit: Sendable, Equatable {
        public var sigma: Double
        public var kappa: Double
        public var rmsError: Double
        public var model: String
    }

    /// Fits `points` (workers, speedup). Uses Amdahl (κ = 0) when fewer than three
    /// distinct worker counts are given or `amdahl` is set. Returns nil without a point
    /// beyond one worker.
    public static func fit(_ points: [(workers: Int, speedup: Double)], amdahl forceAmdahl: Bool = false) -> Fit? {
        let pts = points.filter { $0.workers >= 1 && $0.speedup > 0 && $0.speedup.isFinite }
        guard pts.contains(where: { $0.workers > 1 }) else { return nil }
        let amdahl = forceAmdahl || Set(pts.map(\.workers)).count < 3
        func loss(_ s: Double, _ k: Double) -> Double {
            pts.reduce(0) { acc, p in
                let r = p.speedup - usl(Double(p.workers), sigma: s, kappa: k)
                return acc + r * r
            }
        }
        // Linearized start: y = N/S − 1 = σ x1 + κ x2, x1 = N−1, x2 = N(N−1).
        var s0 = 0.0, k0 = 0.0
        let rows = pts.filter { $0.workers > 1 }.map { p -> (Double, Double, Double) in
            let n = Double(p.workers)
            return (n - 1, n * (n - 1), n / p.speedup - 1)
        }
        if amdahl {
            let sxx = rows.reduce(0) { $0 + $1.0 * $1.0 }, sxy = rows.reduce(0) { $0 + $1.0 * $1.2 }
            s0 = min(1, max(0, sxx > 0 ? sxy / sxx : 0))
        } else {
            var a11 = 0.0, a12 = 0.0, a22 = 0.0, b1 = 0.0, b2 = 0.0
            for (x1, x2, y) in rows { a11 += x1 * x1; a12 += x1 * x2; a22 += x2 * x2; b1 += x1 * y; b2 += x2 * y }
            let det = a11 * a22 - a12 * a12
            if abs(det) > 1e-12 {
                s0 = (b1 * a22 - b2 * a12) / det
                k0 = (a11 * b2 - a12 * b1) / det
            }
            s0 = min(1, max(0, s0)); k0 = max(0, k0)
        }
        // Nelder–Mead on the constrained parameters (negative values clamp to 0).
        let dims = amdahl ? 1 : 2
        func f(_ x: [Double]) -> Double { loss(min(1, max(0, x[0])), dims == 2 ? max(0, x[1]) : 0) }
        var simplex: [[Double]] = [dims == 2 ? [s0, k0] : [s0]]
        for d in 0..<dims {
            var v = simplex[0]
            v[d] += d == 0 ? 0.05 : 0.01
            simplex.append(v)
        }
        var values = simplex.map(f)
        for _ in 0..<(dims == 2 ? 600 : 300) {
            let order = values.indices.sorted { values[$0] < values[$1] }
            simplex = order.map { simplex[$0] }
            values = order.map { values[$0] }
            if abs(values[dims] - values[0]) < 1e-14 { break }
            var centroid = [Double](repeating: 0, count: dims)
            for i in 0..<dims { for d in 0..<dims { centroid[d] += simplex[i][d] / Double(dims) } }
            let worst = simplex[dims]
            let reflect = zip(centroid, worst).map { 2 * $0 - $1 }
            let fr = f(reflect)
            if fr < values[0] {
                let expand = zip(centroid, worst).map { 3 * $0 - 2 * $1 }
                let fe = f(expand)
                if fe < fr { simplex[dims] = expand; values[dims] = fe } else { simplex[dims] = reflect; values[dims] = fr }
            } else if fr < values[dims - 1] {
                simplex[dims] = reflect; values[dims] = fr
            } else {
                let contract = zip(centroid, worst).map { 0.5 * $0 + 0.5 * $1 }
                let fc = f(contract)
                if fc < values[dims] {
                    simplex[dims] = contract; values[dims] = fc
                } else {
                    for i in 1...dims {
                        simplex[i] = zip(simplex[0], simplex[i]).map { 0.5 * $0 + 0.5 * $1 }
                        values[i] = f(simplex[i])
                    }
                }
            }
        }
        let best = values.indices.min { values[$0] < values[$1] }!
        let sigma = min(1, max(0, simplex[best][0])), kappa = dims == 2 ? max(0, simplex[best][1]) : 0
        return Fit(sigma: sigma, kappa: kappa, rmsError: (loss(sigma, kappa) / Double(pts.count)).squareRoot(),
                   model: amdahl ? "amdahl" : "usl")
    }

    /// The worker count where the USL curve peaks: √((1−σ)/κ); nil when κ = 0.
    public static func peakWorkers(sigma: Double, kappa: Double) -> Double? {
        guard kappa > 1e-12, sigma < 1 else { return nil }
        return ((1 - sigma) / kappa).squareRoot()
    }
}
