// check_candidate_file returns an id, never something that runs.
fn main() {
    let sink = vigie_core::MemoryAlertSink::default();
    let id = vigie_policy::check_candidate_file(std::path::Path::new("m.onnx"), &sink).unwrap();
    let _ = id.run(&[]);
}
