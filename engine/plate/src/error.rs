use vigie_policy::PolicyError;

/// Why a plate could not be read (a plate that is simply not found is not an error).
#[derive(Debug, thiserror::Error)]
pub enum PlateError {
    #[error(transparent)]
    Model(#[from] PolicyError),
    #[error("model '{model}' returned an unexpected output: {problem}; the model file does not match what this build expects (re-run tools/fetch-models)")]
    BadOutput { model: String, problem: String },
    #[error("invalid plate-reader setting: {0}")]
    BadConfig(String),
    #[error("bad image given to the plate reader: {0}")]
    BadImage(String),
    #[error("cannot read image {path}: {message} (give a JPEG or PNG file)")]
    Image { path: String, message: String },
}
