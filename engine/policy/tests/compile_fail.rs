//! Compile-time proof (trybuild): code outside vigie-policy cannot forge an allowlisted
//! model id, cannot build a session except through `ModelSession::open`, cannot reach an
//! ONNX Runtime session through vigie-policy, and cannot name a biometric task.

#[test]
fn outside_code_cannot_bypass_the_allowlist() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}
