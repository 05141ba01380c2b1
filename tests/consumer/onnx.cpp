// Uses the installed onnx component: builds a one-node ONNX model (Gemm, 3 -> 2) with the
// protobuf API, imports it from memory and checks the forward pass; exits 0 if it matches.
#include <patternnet/io/onnx.hpp>

#include <cstdio>
#include <string>

int main() {
  onnx::ModelProto model;
  model.add_opset_import()->set_version(13);
  auto* graph = model.mutable_graph();
  auto* input = graph->add_input();
  input->set_name("x");
  auto* type = input->mutable_type()->mutable_tensor_type();
  type->set_elem_type(onnx::TensorProto_DataType_FLOAT);
  type->mutable_shape()->add_dim()->set_dim_param("N");
  type->mutable_shape()->add_dim()->set_dim_value(3);
  auto* w = graph->add_initializer();
  w->set_name("w");
  w->set_data_type(onnx::TensorProto_DataType_FLOAT);
  w->add_dims(2);
  w->add_dims(3);
  for (const float v : {1.f, 2.f, 3.f, -1.f, 0.f, 1.f}) w->add_float_data(v);
  auto* node = graph->add_node();
  node->set_op_type("Gemm");
  node->add_input("x");
  node->add_input("w");
  node->add_output("y");
  auto* trans = node->add_attribute();
  trans->set_name("transB");
  trans->set_type(onnx::AttributeProto_AttributeType_INT);
  trans->set_i(1);
  graph->add_output()->set_name("y");
  const std::string bytes = model.SerializeAsString();
  const auto net = patternnet::io::load_onnx<float>(
      std::span<const std::byte>(reinterpret_cast<const std::byte*>(bytes.data()), bytes.size()));
  patternnet::Batch<float> x({3, 1, 1}, 1);
  x.data << 1, 1, 2;
  const auto y = net.forward(x);
  const bool ok = y.data.rows() == 2 && y.data(0, 0) == 9.f && y.data(1, 0) == 1.f;  // (1+2+6, -1+0+2)
  std::printf("onnx component: %s\n", ok ? "ok" : "WRONG");
  return ok ? 0 : 1;
}
