//! The `rawflow-corpus` binary: sample, scene and score work without any
//! corpus file or network.

use std::process::Command;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_rawflow-corpus"))
}

#[test]
fn sample_scene_and_score() {
    let dir = std::env::temp_dir().join(format!("rawflow-corpus-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let dng = dir.join("sample.dng");
    let truth = dir.join("sample.png");
    let st = bin()
        .args(["sample", "--out"])
        .arg(&dng)
        .arg("--truth")
        .arg(&truth)
        .env("RAWFLOW_CORPUS", "/nonexistent")
        .status()
        .unwrap();
    assert!(st.success());
    let bytes = std::fs::read(&dng).unwrap();
    let raw = rawloader::decode(&mut std::io::Cursor::new(&bytes)).unwrap();
    assert_eq!((raw.width, raw.height), rawflow_corpus::scenes::SAMPLE_SIZE);

    let scene = dir.join("zp.dng");
    let st = bin()
        .args([
            "scene",
            "zoneplate",
            "--size",
            "64x48",
            "--phase",
            "xtrans",
            "--bits",
            "12",
            "--black",
            "64",
            "--out",
        ])
        .arg(&scene)
        .status()
        .unwrap();
    assert!(st.success());
    let raw = rawloader::decode(&mut std::io::Cursor::new(std::fs::read(&scene).unwrap())).unwrap();
    assert_eq!((raw.width, raw.height, raw.whitelevels[0]), (64, 48, 4095));
    assert_eq!(raw.make, "FUJIFILM");

    let out = bin().arg("score").arg(&truth).arg(&truth).output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("cpsnr_db=99.000"), "{text}");
    assert!(text.contains("exposure_ratio=1.00000"), "{text}");

    let bad = bin()
        .args(["sample", "--bits", "11", "--out"])
        .arg(&dng)
        .output()
        .unwrap();
    assert!(!bad.status.success());
    std::fs::remove_dir_all(&dir).ok();
}
