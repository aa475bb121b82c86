package io.ballast.examples; public final class Main { public static void main(String[] a) {} }
