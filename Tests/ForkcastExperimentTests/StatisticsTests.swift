import XCTest
@testable import ForkcastExperiment

final class StatisticsTests: XCTestCase {
    func testMedian() {
        XCTAssertNil(Statistics.median([]))
        XCTAssertEqual(Statistics.median([3, 1, 2]), 2)
        XCTAssertEqual(Statistics.median([4, 1, 3, 2]), 2.5)
        XCTAssertEqual(Statistics.median([7]), 7)
    }

    func testQuantileInterpolates() {
        XCTAssertEqual(Statistics.quantile([0, 10], 0.25), 2.5)
        XCTAssertEqual(Statistics.quantile([5, 1, 3], 0), 1)
        XCTAssertEqual(Statistics.quantile([5, 1, 3], 1), 5)
    }

    func testBootstrapIsDeterministicForASeedAndBracketsTheMedian() throws {
        let xs: [Double] = [1.02, 0.98, 1.10, 0.95, 1.01, 1.04, 0.99, 1.30, 1.00]
        let a = try XCTUnwrap(Statistics.bootstrapMedianInterval(xs, seed: 42))
        let b = try XCTUnwrap(Statistics.bootstrapMedianInterval(xs, seed: 42))
        XCTAssertEqual(a.low, b.low)
        XCTAssertEqual(a.high, b.high)
        let m = Statistics.median(xs)!
        XCTAssertLessThanOrEqual(a.low, m)
        XCTAssertGreaterThanOrEqual(a.high, m)
        XCTAssertGreaterThanOrEqual(a.low, xs.min()!)
        XCTAssertLessThanOrEqual(a.high, xs.max()!)
        // The outlier 1.30 must not drag the interval of the median up to it.
        XCTAssertLessThan(a.high, 1.2)
        XCTAssertLessThan(a.low, a.high)
    }

    func testBootstrapDependsOnTheSeedOnly() {
        var r1 = SeededRandom(seed: 7), r2 = SeededRandom(seed: 7), r3 = SeededRandom(seed: 8)
        let s1 = (0..<5).map { _ in r1.next() }, s2 = (0..<5).map { _ in r2.next() }, s3 = (0..<5).map { _ in r3.next() }
        XCTAssertEqual(s1, s2)
        XCTAssertNotEqual(s1, s3)
    }

    func testSingleValueGivesZeroWidthInterval() {
        let ci = Statistics.bootstrapMedianInterval([2.5], seed: 1)
        XCTAssertEqual(ci?.low, 2.5)
        XCTAssertEqual(ci?.high, 2.5)
        XCTAssertNil(Statistics.bootstrapMedianInterval([], seed: 1))
    }
}

final class ScalingTests: XCTestCase {
    func testUSLRecoversKnownParameters() throws {
        let sigma = 0.05, kappa = 0.002
        let pts = [1, 2, 4, 8, 16, 32].map { ($0, ScalingModel.usl(Double($0), sigma: sigma, kappa: kappa)) }
        let fit = try XCTUnwrap(ScalingModel.fit(pts))
        XCTAssertEqual(fit.model, "usl")
        XCTAssertEqual(fit.sigma, sigma, accuracy: 1e-3)
        XCTAssertEqual(fit.kappa, kappa, accuracy: 1e-4)
        XCTAssertLessThan(fit.rmsError, 1e-3)
        XCTAssertEqual(try XCTUnwrap(ScalingModel.peakWorkers(sigma: fit.sigma, kappa: fit.kappa)), (0.95 / 0.002).squareRoot(), accuracy: 1)
    }

    func testUSLWithNoisyPointsStaysClose() throws {
        let sigma = 0.1, kappa = 0.01
        let noise = [0.02, -0.03, 0.01, -0.02, 0.03]
        let pts = zip([1, 2, 4, 6, 8], noise).map { ($0, ScalingModel.usl(Double($0), sigma: sigma, kappa: kappa) * (1 + $1)) }
        let fit = try XCTUnwrap(ScalingModel.fit(pts))
        XCTAssertEqual(fit.sigma, sigma, accuracy: 0.05)
        XCTAssertEqual(fit.kappa, kappa, accuracy: 0.01)
    }

    func testAmdahlWithFewerThanThreePoints() throws {
        let sigma = 0.2
        let fit = try XCTUnwrap(ScalingModel.fit([(1, 1), (2, ScalingModel.usl(2, sigma: sigma, kappa: 0))]))
        XCTAssertEqual(fit.model, "amdahl")
        XCTAssertEqual(fit.kappa, 0)
        XCTAssertEqual(fit.sigma, sigma, accuracy: 1e-4)
        XCTAssertNil(ScalingModel.peakWorkers(sigma: fit.sigma, kappa: fit.kappa))
    }

    func testPerfectScalingAndNoData() throws {
        let fit = try XCTUnwrap(ScalingModel.fit([(1, 1), (2, 2), (4, 4)]))
        XCTAssertEqual(fit.sigma, 0, accuracy: 1e-4)
        XCTAssertEqual(fit.kappa, 0, accuracy: 1e-5)
        XCTAssertNil(ScalingModel.fit([(1, 1)]))
    }
}
