// There is no way to open a session from a path: `open` takes an AllowedModelId, and no
// path-taking constructor exists.
fn main() {
    let sink = vigie_core::MemoryAlertSink::default();
    let config = vigie_policy::SessionConfig::default();
    let _a = vigie_policy::ModelSession::from_file("/tmp/face.onnx", &config, &sink);
    let _b = vigie_policy::ModelSession::commit_from_file("/tmp/face.onnx");
}
