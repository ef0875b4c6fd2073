// An AllowedModelId cannot be made up: its field is private.
fn main() {
    let _id = vigie_policy::AllowedModelId(7);
}
