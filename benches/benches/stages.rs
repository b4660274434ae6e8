//! Per-stage throughput (MP/s) on a synthetic 1536×1024 scene.
//! Run: `cargo bench -p rawflow-benches` (a few minutes).

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rawflow::internals::color::{matrix as color, transfer};
use rawflow::internals::demosaic::{demosaic, demosaic_reduced, DemosaicMethod};
use rawflow::internals::develop::develop_linear;
use rawflow::internals::encode::{encode_jpeg, encode_png8, encode_tiff16, Embed, Subsampling};
use rawflow::internals::stages::{crop, levels, resize, white_balance};
use rawflow::{decode_bytes, DevelopOptions, Timings};
use rawflow_corpus::{scenes, write_dng, SynthParams};

fn stages(c: &mut Criterion) {
    let (w, h) = (1536, 1024);
    let truth = scenes::sample_scene();
    let truth = if (truth.width, truth.height) == (w, h) {
        truth
    } else {
        scenes::color_chart(w, h)
    };
    let Ok(dng) = write_dng(&truth, &SynthParams::default()) else {
        eprintln!("could not synthesise the bench DNG");
        return;
    };
    let Ok(raw) = decode_bytes(&dng) else {
        eprintln!("could not decode the bench DNG");
        return;
    };
    let pixels = (raw.active_area.width * raw.active_area.height) as u64;
    let mut g = c.benchmark_group("stages");
    g.sample_size(10);
    g.throughput(Throughput::Elements(pixels));
    g.bench_function("decode", |b| b.iter(|| decode_bytes(&dng)));
    let Ok(area) = crop::crop_to_active_area(&raw) else {
        return;
    };
    let mut data = levels::apply_levels(&area, raw.white);
    if let Ok(m) = white_balance::multipliers(&raw, Default::default()) {
        white_balance::apply(&mut data, m);
    }
    let levels::SensorData::Mosaic(mosaic) = data else {
        return;
    };
    for method in DemosaicMethod::ALL {
        g.bench_function(format!("demosaic_{}", method.name()), |b| {
            b.iter(|| demosaic(&mosaic, method))
        });
    }
    g.bench_function("demosaic_reduced", |b| b.iter(|| demosaic_reduced(&mosaic)));
    for method in [DemosaicMethod::Fast, DemosaicMethod::Best] {
        let opts = DevelopOptions {
            demosaic: method,
            ..DevelopOptions::default()
        };
        g.bench_function(format!("develop_linear_{}", method.name()), |b| {
            b.iter(|| develop_linear(&raw, &opts, &mut Timings::default()))
        });
    }
    let Ok(rgb) = demosaic(&mosaic, DemosaicMethod::Fast) else {
        return;
    };
    let m = color::camera_to_srgb(raw.xyz_to_cam.as_ref());
    g.bench_function("color_matrix", |b| {
        b.iter_batched_ref(
            || rgb.clone(),
            |img| color::apply_matrix(img, &m),
            criterion::BatchSize::LargeInput,
        )
    });
    g.bench_function("resize_to_512", |b| {
        b.iter(|| resize::fit_long_edge(&rgb, 512))
    });
    g.bench_function("to_srgb8", |b| b.iter(|| transfer::to_srgb8(&rgb)));
    let rgb8 = transfer::to_srgb8(&rgb);
    let rgb16 = transfer::to_srgb16(&rgb);
    let embed = || Embed {
        icc_profile: None,
        metadata: None,
    };
    g.bench_function("encode_jpeg_q90", |b| {
        b.iter(|| encode_jpeg(&rgb8, 90, Subsampling::S420, embed()))
    });
    g.bench_function("encode_png8", |b| b.iter(|| encode_png8(&rgb8, embed())));
    g.bench_function("encode_tiff16", |b| {
        b.iter(|| encode_tiff16(&rgb16, embed()))
    });
    g.finish();
}

criterion_group!(benches, stages);
criterion_main!(benches);
