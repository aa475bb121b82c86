/** JMH benchmarks. */ package io.ballast.benchmarks;
