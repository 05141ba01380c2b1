#include <patternnet/patternnet.hpp>
#include <patternnet/testing.hpp>

int umbrella_b() {
  patternnet::Shape s{1, 2, 3};
  return s.size() == 6 ? 1 : 0;
}
