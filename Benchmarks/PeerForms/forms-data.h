// The data and query sets of one `subterra-compare dump` file, for the forms harnesses.
// Layout (little-endian): u64 n, then n x (x0, y0, x1, y1) doubles; u64 m, then m windows
// (minx, miny, maxx, maxy), m points (x, y), m radii, and m polygons, each u64 vertex count
// followed by that many (x, y) pairs (open ring).
#pragma once
#include <array>
#include <cstdint>
#include <cstdio>
#include <chrono>
#include <vector>

struct Data {
  size_t n = 0;
  std::vector<double> coords;
  std::vector<std::array<double, 4>> windows;
  std::vector<std::array<double, 2>> points;
  std::vector<double> radii;
  std::vector<std::vector<double>> polygons;
  void truncateQueries(size_t m) {
    if (windows.size() > m) {
      windows.resize(m);
      points.resize(m);
      radii.resize(m);
      polygons.resize(m);
    }
  }
};

inline bool readDump(const char *path, Data &d) {
  FILE *f = std::fopen(path, "rb");
  if (!f) {
    std::perror(path);
    return false;
  }
  auto u64 = [&](uint64_t &v) { return std::fread(&v, 8, 1, f) == 1; };
  auto dbl = [&](double *p, size_t k) { return std::fread(p, 8, k, f) == k; };
  uint64_t n = 0, m = 0;
  bool ok = u64(n);
  d.n = n;
  d.coords.resize(4 * n);
  ok = ok && dbl(d.coords.data(), 4 * n) && u64(m);
  d.windows.resize(m);
  d.points.resize(m);
  d.radii.resize(m);
  d.polygons.resize(m);
  for (auto &w : d.windows) ok = ok && dbl(w.data(), 4);
  for (auto &p : d.points) ok = ok && dbl(p.data(), 2);
  ok = ok && dbl(d.radii.data(), m);
  for (auto &pg : d.polygons) {
    uint64_t k = 0;
    ok = ok && u64(k);
    pg.resize(2 * k);
    ok = ok && dbl(pg.data(), 2 * k);
  }
  std::fclose(f);
  if (!ok) std::fprintf(stderr, "%s: truncated dump\n", path);
  return ok;
}

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <string>

// Checksum of every answer, so forms that disagree are caught and nothing is optimised away.
struct Sum {
  uint64_t n = 0;
  double d = 0;
};

// One form of a workload: a name and a function running all queries, adding to a checksum.
struct Form {
  std::string workload, name;
  std::function<Sum()> run;
  std::vector<double> secs;
  double allocsPerQuery = -1;
};

// Runs every form `rounds` times, interleaved (the starting form rotates each round), each run
// going `inner` times over its query set; checks that all forms of a workload agree; prints the
// median time of each form and its ratio to the first form of its workload (the peer's form
// before this measurement). `allocs` reads an allocation counter, or is null.
inline void runForms(std::vector<Form> &forms, int rounds, int inner, size_t queries, size_t (*allocs)()) {
  std::stable_sort(forms.begin(), forms.end(), [](const Form &a, const Form &b) { return a.workload < b.workload; });
  auto now = [] { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); };
  std::map<std::string, Sum> reference;
  for (int r = 0; r < rounds; ++r) {
    for (size_t j0 = 0; j0 < forms.size(); ++j0) {
      Form &f = forms[(j0 + r) % forms.size()];
      bool build = f.workload.rfind("build", 0) == 0;
      size_t a0 = allocs ? allocs() : 0;
      double t0 = now();
      Sum s = f.run();
      for (int i = 1; i < (build ? 1 : inner); ++i) f.run();
      f.secs.push_back(now() - t0);
      if (allocs) f.allocsPerQuery = double(allocs() - a0) / double(build ? 1 : inner * queries);
      auto it = reference.find(f.workload);
      if (it == reference.end())
        reference[f.workload] = s;
      else if (it->second.n != s.n || std::abs(it->second.d - s.d) > 1e-6 * std::max(1.0, std::abs(s.d)))
        std::fprintf(stderr, "ANSWERS DIFFER: %s / %s\n", f.workload.c_str(), f.name.c_str());
    }
  }
  std::string last;
  double base = 0;
  for (auto &f : forms) {
    std::vector<double> s = f.secs;
    std::sort(s.begin(), s.end());
    double med = s[s.size() / 2];
    if (f.workload != last) {
      last = f.workload;
      base = med;
      std::printf("\n%s (median of %d rounds; ratio = time / first form's time)\n", f.workload.c_str(), rounds);
    }
    std::printf("  %-96s %8.4f s  %5.2fx", f.name.c_str(), med, med / base);
    if (f.allocsPerQuery >= 0) std::printf("  %9.2f allocs/%s", f.allocsPerQuery, f.workload.rfind("build", 0) == 0 ? "build" : "query");
    std::printf("\n");
  }
}
