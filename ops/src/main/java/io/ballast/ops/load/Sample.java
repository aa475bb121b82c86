package io.ballast.ops.load;

import java.util.List;
import java.util.Map;
import org.HdrHistogram.Histogram;

/**
 * One second of a load test: the client's view and the service's.
 *
 * @param second seconds since the start (the sample covers the second before)
 * @param rate the scheduled rate at the end of the second
 * @param scheduled requests issued in the second
 * @param completed requests that succeeded in the second
 * @param errors requests that failed in the second
 * @param inFlight requests executing or queued at the end of the second
 * @param p50Ms client latency p50 in the second (null: no request finished)
 * @param p95Ms client latency p95
 * @param p99Ms client latency p99
 * @param maxMs client latency maximum
 * @param pools per pool: utilisation 0–1, threads waiting, acquisition p95 in ms
 * @param cacheHitRatio per {@code region/level}: hits over reads in the second
 * @param cacheHitRatioAll hits at either level over reads in the second (null: no cache reads)
 * @param cacheReads cache reads in the second
 * @param openBreakers breakers open or half-open
 * @param statements statements the service ran in the second
 * @param statementP95Ms their server-side p95 (null: none)
 */
public record Sample(
    long second,
    double rate,
    long scheduled,
    long completed,
    long errors,
    int inFlight,
    Double p50Ms,
    Double p95Ms,
    Double p99Ms,
    Double maxMs,
    Map<String, double[]> pools,
    Map<String, Double> cacheHitRatio,
    Double cacheHitRatioAll,
    long cacheReads,
    List<String> openBreakers,
    long statements,
    Double statementP95Ms) {

  static Sample of(
      long second,
      double rate,
      long scheduled,
      long completed,
      long errors,
      int inFlight,
      Histogram interval,
      Internals.Reading reading) {
    var any = interval.getTotalCount() > 0;
    return new Sample(
        second,
        rate,
        scheduled,
        completed,
        errors,
        inFlight,
        any ? interval.getValueAtPercentile(50) / 1000.0 : null,
        any ? interval.getValueAtPercentile(95) / 1000.0 : null,
        any ? interval.getValueAtPercentile(99) / 1000.0 : null,
        any ? interval.getMaxValue() / 1000.0 : null,
        reading.pools(),
        reading.cacheHitRatio(),
        reading.cacheReads() > 0 ? (double) reading.cacheHits() / reading.cacheReads() : null,
        reading.cacheReads(),
        reading.openBreakers(),
        reading.statements(),
        Double.isNaN(reading.statementP95Ms()) ? null : reading.statementP95Ms());
  }
}
