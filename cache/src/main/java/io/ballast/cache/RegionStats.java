package io.ballast.cache;

/**
 * A region's figures since start: per level, and of its loader. The same numbers are in the metric
 * registry under {@code ballast.cache.<region>.…}.
 *
 * @param region the region's name
 * @param l1Hits reads answered by L1
 * @param l1Misses reads L1 could not answer
 * @param l1Evictions entries L1 evicted for size or age
 * @param l1Size entries in L1 now (approximate)
 * @param l2Hits reads answered by Redis
 * @param l2Misses reads Redis could not answer (including while it was unreachable)
 * @param loads loader calls that succeeded
 * @param loadFailures loader calls that threw
 * @param loadMeanMs mean loader time, in milliseconds
 * @param errors Redis calls that failed or timed out
 * @param corrupt entries in Redis the codec could not read (treated as misses and overwritten)
 */
public record RegionStats(
    String region,
    long l1Hits,
    long l1Misses,
    long l1Evictions,
    long l1Size,
    long l2Hits,
    long l2Misses,
    long loads,
    long loadFailures,
    double loadMeanMs,
    long errors,
    long corrupt) {

  /** Reads answered by either level, over all reads; 1.0 when nothing was read yet. */
  public double hitRatio() {
    var requests = l1Hits + l1Misses;
    return requests == 0 ? 1.0 : (double) (l1Hits + l2Hits) / requests;
  }

  /** L1 hits over L1 reads; 1.0 when nothing was read yet. */
  public double l1HitRatio() {
    var requests = l1Hits + l1Misses;
    return requests == 0 ? 1.0 : (double) l1Hits / requests;
  }

  /** L2 hits over L2 reads; 1.0 when nothing was read from L2 yet. */
  public double l2HitRatio() {
    var requests = l2Hits + l2Misses;
    return requests == 0 ? 1.0 : (double) l2Hits / requests;
  }

  /** Reads so far. */
  public long requests() {
    return l1Hits + l1Misses;
  }
}
