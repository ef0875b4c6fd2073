// vigie-policy exposes no ONNX Runtime type: no `ort` module, no `Session`.
use vigie_policy::ort::session::Session;
use vigie_policy::Session as _;

fn main() {}
