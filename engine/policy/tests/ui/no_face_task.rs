// No biometric task can be named.
fn main() {
    let _face = vigie_policy::Task::Face;
    let _reid = vigie_policy::Task::PersonReid;
}
