//! `vigie eval ...`: quality measured against annotated data. One variant per stage; each
//! stage's module holds its arguments and its evaluation.

use crate::output::Outcome;
use crate::Global;

#[derive(Debug, clap::Subcommand)]
pub enum EvalCmd {
    /// Colour names against colours labelled by eye (`eval/colour/labels.toml`): first
    /// colour, first two, and what a colour search finds, per part and half of the labels.
    Colour(super::eval_colour::Args),
    /// Precision and recall of the object detector at an IoU threshold, per class, over a
    /// folder of images with Pascal VOC annotations (`NAME.jpg` + `NAME.xml`).
    Detect(super::detect::EvalArgs),
    /// CLEAR-MOT (MOTA, MOTP, ID switches), IDF1 and HOTA of tracker output against
    /// MOTChallenge ground truth, with motmetrics' and TrackEval's rules.
    Mot(super::eval_mot::Args),
    /// Licence-plate read rate over a labelled plate set (openalpr or nomeroff layout):
    /// exact reads (separators ignored, O = 0), and failures by cause.
    Plates(super::plates::EvalArgs),
    /// vigie's own detector + tracker on a video, scored against MOTChallenge ground truth.
    Track(super::eval_track::Args),
}

pub fn run(cmd: EvalCmd, global: &Global) -> anyhow::Result<Outcome> {
    match cmd {
        EvalCmd::Colour(a) => super::eval_colour::run(a, global),
        EvalCmd::Detect(a) => super::detect::eval(a, global),
        EvalCmd::Mot(a) => super::eval_mot::run(a, global),
        EvalCmd::Track(a) => super::eval_track::run(a, global),
        EvalCmd::Plates(a) => super::plates::eval(a, global),
    }
}
