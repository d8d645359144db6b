/*
 * tsc-khz: prints the host's TSC frequency in kHz. Under TCG the guest's TSC
 * is the host's, and run.sh hands this to the guest kernel as tsc_early_khz=:
 * the guest's own calibration against the emulated PIT/HPET goes wrong when
 * the host is busy, and then the guest's clock runs several times too fast.
 * Measures TSC ticks against CLOCK_MONOTONIC_RAW over 3 x 50 ms, prints the median.
 */
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include <x86intrin.h>

static double ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
  return ts.tv_sec * 1e9 + ts.tv_nsec;
}

int main(void) {
  double khz[3];
  for (int i = 0; i < 3; i++) {
    double n0 = ns();
    uint64_t t0 = __rdtsc();
    struct timespec d = {0, 50 * 1000 * 1000};
    nanosleep(&d, NULL);
    double n1 = ns();
    uint64_t t1 = __rdtsc();
    khz[i] = (double)(t1 - t0) / (n1 - n0) * 1e6;
  }
  double a = khz[0], b = khz[1], c = khz[2];
  double med = a > b ? (b > c ? b : (a > c ? c : a)) : (a > c ? a : (b > c ? c : b));
  printf("%.0f\n", med);
  return 0;
}
