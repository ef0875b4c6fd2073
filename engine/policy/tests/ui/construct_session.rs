// A ModelSession cannot be assembled by hand: its fields are private.
#![allow(unreachable_code)]
fn main() {
    let _s = vigie_policy::ModelSession {
        id: vigie_policy::ids::NANODET_COCO_416,
        session: todo!(),
    };
}
