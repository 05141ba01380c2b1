// The reference of the compile-time benchmark: the same size of program with only Eigen.
#include <Eigen/Core>

#include <cstdio>

int main() {
  Eigen::MatrixXf w = Eigen::MatrixXf::Random(10, 784), x = Eigen::MatrixXf::Random(784, 4);
  const Eigen::MatrixXf y = w * x;
  std::printf("%.6g\n", static_cast<double>(y.sum()));
  return 0;
}
