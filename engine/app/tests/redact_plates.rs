//! Plates located for redaction with the real plate detector, on real European plates
//! (`plates-eu-openalpr-dev`: 48 photos of cars with the plate's box): each photo is one
//! frame with one unselected car whose box is the whole photo; the plan is refined with
//! `ClpLocator` (the allowlisted `clp-det` through vigie-policy) and filled. Target: not
//! one pixel of a plate left clear, whether the plate was located or the lower half
//! covered instead; and where a plate is located, the upper part of the car stays clear.
//! Skips, with the reason, when the model, ONNX Runtime or the dataset is absent.

use std::path::PathBuf;
use std::time::Instant;

use vigie_app::redact::ClpLocator;
use vigie_core::{BBox, MemoryAlertSink};
use vigie_redact::{apply, PlateMasker, RedactParams, Redactor, TrackBoxes, FILL_RGB};

fn datasets() -> PathBuf {
    std::env::var_os("VIGIE_TEST_DATASETS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/datasets")
        })
}

fn locator() -> Option<ClpLocator> {
    let path = vigie_policy::model_path(vigie_policy::ids::CLP_DET);
    if !path.is_file() {
        vigie_core::test_support::skip(&format!(
            "{} absent (run tools/fetch-models)",
            path.display()
        ));
        return None;
    }
    match ClpLocator::open(&MemoryAlertSink::default()) {
        Ok(l) => Some(l),
        Err(vigie_app::AppError::Plate(vigie_plate::PlateError::Model(
            vigie_policy::PolicyError::RuntimeMissing { path, .. },
        ))) => {
            vigie_core::test_support::skip(&format!(
                "ONNX Runtime absent at {path} (run tools/fetch-onnxruntime)"
            ));
            None
        }
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn no_plate_pixel_is_left_clear_on_real_plates() {
    let dir = datasets().join("plates-eu-openalpr-dev");
    if !dir.is_dir() {
        vigie_core::test_support::skip(&format!("{} absent", dir.display()));
        return;
    }
    let Some(mut loc) = locator() else {
        return;
    };
    let mut txts: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    txts.sort();
    let params = RedactParams {
        motion: None,
        ..Default::default()
    };
    let (mut photos, mut located, mut clear_px, mut upper_masked_when_located) =
        (0u64, 0u64, 0u64, 0u64);
    let mut masked_share_located = 0f64;
    let started = Instant::now();
    for txt in &txts {
        let text = std::fs::read_to_string(txt).unwrap();
        let f: Vec<&str> = text.lines().next().unwrap().split('\t').collect();
        let n = |i: usize| f[i].trim().parse::<u32>().unwrap();
        let (px, py, pw, ph) = (n(1), n(2), n(3), n(4));
        let img = image::open(dir.join(f[0])).unwrap().to_rgb8();
        let (w, h) = img.dimensions();
        let mut rgb = img.into_raw();
        let car = TrackBoxes {
            track_id: 1,
            label: "car".into(),
            boxes: vec![(
                0,
                BBox {
                    x: 0.0,
                    y: 0.0,
                    w: w as f32,
                    h: h as f32,
                },
            )],
        };
        let r = Redactor::new((w, h), vec![car], &[], params.clone()).unwrap();
        let mut plan = r.plan(0, w, h);
        let mut masker = PlateMasker::new(params.plates.clone()).unwrap();
        masker.refine(&mut plan, &rgb, &mut loc).unwrap();
        apply(&mut rgb, &plan, None, FILL_RGB);
        let filled = |x: u32, y: u32| {
            let i = ((y * w + x) * 3) as usize;
            rgb[i..i + 3] == FILL_RGB
        };
        let mut clear = 0;
        for y in py..(py + ph).min(h) {
            for x in px..(px + pw).min(w) {
                clear += u64::from(!filled(x, y));
            }
        }
        photos += 1;
        clear_px += clear;
        let fig = masker.figures();
        if fig.located > 0 {
            located += 1;
            // Above the plate's top by a plate height: the car's body, glass, roof.
            let top = py.saturating_sub(ph);
            let masked: u64 = (0..top)
                .flat_map(|y| (0..w).map(move |x| (x, y)))
                .filter(|&(x, y)| filled(x, y))
                .count() as u64;
            upper_masked_when_located += masked;
            let all = (0..h)
                .flat_map(|y| (0..w).map(move |x| (x, y)))
                .filter(|&(x, y)| filled(x, y))
                .count();
            masked_share_located += all as f64 / (w * h) as f64;
        }
        if clear > 0 {
            eprintln!(
                "{}: {clear} plate pixels clear ({fig:?}, masks {:?})",
                f[0], plan.masks
            );
        }
    }
    let ms = started.elapsed().as_secs_f64() * 1e3 / photos.max(1) as f64;
    eprintln!(
        "plates located on {located}/{photos} photos (lower half elsewhere); plate pixels \
         left clear: {clear_px}; pixels masked where located: {:.1}% of the photo; \
         {:.1} ms per photo (detector {:.1} ms)",
        100.0 * masked_share_located / located.max(1) as f64,
        ms,
        loc.elapsed.as_secs_f64() * 1e3 / photos.max(1) as f64
    );
    assert!(photos >= 40, "{photos} photos in {}", dir.display());
    assert_eq!(clear_px, 0, "plate pixels left clear");
    assert!(
        located as f64 >= 0.7 * photos as f64,
        "plates located on {located}/{photos}"
    );
    // Where located, the car is shown: far less than the lower half is covered
    // (measured: 7.0% of the photo on average).
    assert!(
        masked_share_located / (located.max(1) as f64) < 0.2,
        "masked where located: {masked_share_located} over {located} photos"
    );
    eprintln!("masked above the located plates (stickers, other candidates): {upper_masked_when_located} px");
}
