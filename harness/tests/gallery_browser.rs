//! The client gallery and the studio page in a real headless Chromium
//! (Debian's `chromium` + `chromium-driver`, installed by scripts/setup),
//! driven over WebDriver. Screenshots go to
//! `$CARGO_TARGET_TMPDIR/gallery-screenshots/`.

mod common;

use std::collections::HashSet;
use std::path::PathBuf;
use std::time::Duration;

use common::webdriver::{keys, Browser};
use common::{data_dir, decode_jpeg, rawflow, sample_dng, Api, ServerProc};
use serde_json::Value;

fn shots() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("gallery-screenshots")
}

fn job_ids(browser: &Browser) -> HashSet<String> {
    browser
        .js("return Array.from(document.querySelectorAll('li.photo'), li => li.dataset.job);")
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

fn text(browser: &Browser, css: &str) -> String {
    browser
        .js(&format!(
            "const n = document.querySelector({css:?}); return n ? n.textContent : null;"
        ))
        .as_str()
        .unwrap_or("")
        .to_string()
}

#[test]
fn gallery_in_chromium() {
    let data = data_dir();
    let server = ServerProc::start(data.path(), &["--workers", "1", "--poll-ms", "50"]);
    let admin = server.admin.clone().unwrap();
    let base = server.base.clone();
    let http = Api::new(&base);

    // A client whose name is HTML that would run script if it were not escaped.
    let evil = "<img src=x onerror=\"document.title='pwned'\"><script>document.title='pwned'</script>Ana & Bo";
    let a = rawflow(&base, Some(&admin), &["clients", "add", evil, "--json"]).json();
    let (a_id, a_url) = (
        a["client_id"].as_str().unwrap().to_string(),
        a["gallery_url"].as_str().unwrap().to_string(),
    );
    let b = rawflow(
        &base,
        Some(&admin),
        &["clients", "add", "Other client", "--json"],
    )
    .json();
    let (b_id, b_url) = (
        b["client_id"].as_str().unwrap().to_string(),
        b["gallery_url"].as_str().unwrap().to_string(),
    );

    // Upload a small shoot for A (4 synthetic DNGs, landscape and portrait) and one for B.
    let shoot = tempfile::tempdir().unwrap();
    let sizes = [(600, 400), (600, 400), (400, 600), (600, 400)];
    for (i, (w, h)) in sizes.iter().enumerate() {
        let name = format!("DSC_00{}{}.dng", i + 1, if i == 1 { " (copy)" } else { "" });
        std::fs::write(shoot.path().join(name), sample_dng(*w, *h, i as u32 + 10)).unwrap();
    }
    let up = rawflow(
        &base,
        Some(&admin),
        &[
            "upload",
            "--client",
            &a_id,
            "--wait",
            "--json",
            shoot.path().to_str().unwrap(),
        ],
    );
    assert_eq!(up.code, 0, "{}\n{}", up.stdout, up.stderr);
    let other = tempfile::tempdir().unwrap();
    std::fs::write(other.path().join("B_0001.dng"), sample_dng(300, 200, 99)).unwrap();
    let up_b = rawflow(
        &base,
        Some(&admin),
        &[
            "upload",
            "--client",
            &b_id,
            "--wait",
            other.path().to_str().unwrap(),
        ],
    );
    assert_eq!(up_b.code, 0, "{}", up_b.stderr);
    // And a file that cannot be developed: its job fails (the studio can retry it).
    let broken = tempfile::tempdir().unwrap();
    std::fs::write(broken.path().join("B_broken.dng"), b"II*\0 not a DNG").unwrap();
    let up_bad = rawflow(
        &base,
        Some(&admin),
        &[
            "upload",
            "--client",
            &b_id,
            "--wait",
            "--json",
            broken.path().to_str().unwrap(),
        ],
    );
    assert_eq!(up_bad.code, 1, "{}", up_bad.stderr);
    let failed_job = up_bad.json()["jobs"][0]["job_id"]
        .as_str()
        .unwrap()
        .to_string();

    // The page's headers: strict CSP, no referrer.
    let page = http.get(&a_url, None);
    assert_eq!(page.status, 200);
    let csp = page.header("content-security-policy");
    assert!(
        csp.contains("default-src 'none'") && csp.contains("script-src 'self'"),
        "{csp}"
    );
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert_eq!(page.header("referrer-policy"), "no-referrer");

    let browser = Browser::start();
    browser.goto(&a_url);
    // The name is shown as text, and nothing ran.
    assert!(
        text(&browser, "h1").contains("<script>"),
        "{}",
        text(&browser, "h1")
    );
    assert_ne!(browser.js("return document.title;"), Value::from("pwned"));
    assert_eq!(
        browser.js("return document.querySelectorAll('h1 img, h1 script').length;"),
        Value::from(0)
    );
    assert!(
        text(&browser, ".meta").contains("available until"),
        "{}",
        text(&browser, ".meta")
    );

    // Every thumbnail decodes (scrolling brings the lazy ones in).
    let a_jobs = job_ids(&browser);
    assert_eq!(a_jobs.len(), 4);
    browser.js("window.scrollTo(0, document.body.scrollHeight); return true;");
    browser.wait_until(
        "every thumbnail to decode",
        "const t = Array.from(document.querySelectorAll('img.thumb')); \
         return t.length === 4 && t.every(i => i.complete && i.naturalWidth > 0);",
        30,
    );
    browser.js("window.scrollTo(0, 0); return true;");
    browser.screenshot(&shots().join("gallery-desktop.png"));

    // The lightbox: opens on a click, moves with the arrow keys, closes on Escape
    // and gives focus back.
    browser.click("li.photo:nth-child(1) button.open");
    browser.wait_until(
        "the lightbox",
        "return !document.getElementById('lightbox').hidden;",
        5,
    );
    assert_eq!(text(&browser, "#lb-count"), "1 / 4");
    assert_eq!(
        browser.js("return document.activeElement.id;"),
        Value::from("lb-close")
    );
    browser.wait_until(
        "the large image",
        "const i = document.getElementById('lb-img'); return i.complete && i.naturalWidth > 0;",
        10,
    );
    browser.press(keys::RIGHT);
    assert_eq!(text(&browser, "#lb-count"), "2 / 4");
    browser.press(keys::RIGHT);
    assert_eq!(text(&browser, "#lb-count"), "3 / 4");
    browser.press(keys::LEFT);
    browser.press(keys::LEFT);
    browser.press(keys::LEFT);
    assert_eq!(text(&browser, "#lb-count"), "4 / 4", "wraps around");
    browser.press(keys::RIGHT);
    browser.wait_until(
        "the large image",
        "const i = document.getElementById('lb-img'); return i.complete && i.naturalWidth > 0;",
        10,
    );
    browser.screenshot(&shots().join("gallery-lightbox.png"));
    browser.press(keys::ESCAPE);
    assert_eq!(
        browser.js("return document.getElementById('lightbox').hidden;"),
        Value::from(true)
    );
    assert_eq!(
        browser.js("return document.activeElement === document.querySelector('li.photo:nth-child(1) button.open');"),
        Value::from(true)
    );

    // A favourite survives a reload and the studio sees it.
    let fav_job = browser
        .js("return document.querySelector('li.photo:nth-child(2)').dataset.job;")
        .as_str()
        .unwrap()
        .to_string();
    browser.click("li.photo:nth-child(2) button.fav");
    browser.wait_until(
        "the favourite to be shown",
        "return document.querySelector('li.photo:nth-child(2) button.fav').getAttribute('aria-pressed') === 'true';",
        5,
    );
    // Wait for the request to land before reloading.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        let favs = rawflow(&base, Some(&admin), &["jobs", "--favourites", "--json"]).json();
        let ids: Vec<&str> = favs["jobs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|j| j["job_id"].as_str().unwrap())
            .collect();
        if ids == [fav_job.as_str()] {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "favourite not stored: {ids:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    browser.refresh();
    assert_eq!(
        browser.js(&format!(
            "return document.getElementById('photo-{fav_job}').querySelector('button.fav').getAttribute('aria-pressed');"
        )),
        Value::from("true")
    );
    let table = rawflow(&base, Some(&admin), &["jobs", "--favourites"]);
    assert!(
        table.stdout.contains(&fav_job) && table.stdout.contains('★'),
        "{}",
        table.stdout
    );

    // "Download all": one ZIP whose entries decode as the expected images.
    let zip_href = browser
        .js("return document.getElementById('download-all').href;")
        .as_str()
        .unwrap()
        .to_string();
    let zip = http.get(&zip_href, None);
    assert_eq!(zip.status, 200);
    assert_eq!(zip.header("content-type"), "application/zip");
    let dir = tempfile::tempdir().unwrap();
    let zip_path = dir.path().join("all.zip");
    std::fs::write(&zip_path, &zip.body).unwrap();
    let unpacked = dir.path().join("out");
    let status = std::process::Command::new("python3")
        .args(["-c", "import sys,zipfile; z=zipfile.ZipFile(sys.argv[1]); assert z.testzip() is None; z.extractall(sys.argv[2])"])
        .arg(&zip_path)
        .arg(&unpacked)
        .status()
        .expect("python3 (to read the ZIP independently)");
    assert!(
        status.success(),
        "the ZIP does not pass Python's zipfile test"
    );
    let mut names: Vec<String> = std::fs::read_dir(&unpacked)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "DSC_001-web.jpg",
            "DSC_002 (copy)-web.jpg",
            "DSC_003-web.jpg",
            "DSC_004-web.jpg"
        ]
    );
    for (name, (w, h)) in names.iter().zip(sizes) {
        let bytes = std::fs::read(unpacked.join(name)).unwrap();
        assert_eq!(decode_jpeg(&bytes), (w as usize, h as usize), "{name}");
    }

    // Phone width.
    browser.set_size(390, 844);
    browser.refresh();
    browser.wait_until(
        "thumbnails at phone width",
        "const t = Array.from(document.querySelectorAll('img.thumb')).slice(0, 2); \
         return t.every(i => i.complete && i.naturalWidth > 0);",
        30,
    );
    assert_eq!(
        browser.js("return document.documentElement.scrollWidth <= window.innerWidth;"),
        Value::from(true),
        "no sideways scrolling on a phone"
    );
    browser.screenshot(&shots().join("gallery-phone.png"));
    browser.click("li.photo:nth-child(3) button.open");
    browser.wait_until(
        "the large image on a phone",
        "const i = document.getElementById('lb-img'); return !document.getElementById('lightbox').hidden && i.complete && i.naturalWidth > 0;",
        10,
    );
    browser.screenshot(&shots().join("gallery-phone-lightbox.png"));
    browser.press(keys::ESCAPE);
    browser.set_size(1280, 900);

    // Another client's link shows only that client's photos, and cannot
    // reach A's photos by their ids.
    browser.goto(&b_url);
    let b_jobs = job_ids(&browser);
    assert_eq!(b_jobs.len(), 1);
    assert!(b_jobs.is_disjoint(&a_jobs));
    let a_job = a_jobs.iter().next().unwrap();
    assert_eq!(
        http.get(&format!("{b_url}/photos/{a_job}/web"), None)
            .status,
        404
    );
    assert_eq!(
        http.get(&format!("{a_url}/photos/{a_job}/web"), None)
            .status,
        200
    );

    // A revoked link and an expired link: the friendly 403 page.
    let shares = rawflow(&base, Some(&admin), &["clients", "shares", &b_id, "--json"]).json();
    let b_share = shares["shares"][0]["share_id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        rawflow(&base, Some(&admin), &["clients", "unshare", &b_share]).code,
        0
    );
    assert_eq!(http.get(&b_url, None).status, 403);
    browser.goto(&b_url);
    assert!(
        text(&browser, "h1").contains("withdrawn"),
        "{}",
        text(&browser, "h1")
    );
    browser.screenshot(&shots().join("gallery-revoked.png"));
    let short = rawflow(
        &base,
        Some(&admin),
        &["clients", "share", &a_id, "--expires", "1s", "--json"],
    )
    .json();
    let short_url = short["gallery_url"].as_str().unwrap().to_string();
    std::thread::sleep(Duration::from_millis(2100));
    assert_eq!(http.get(&short_url, None).status, 403);
    browser.goto(&short_url);
    assert!(
        text(&browser, "h1").contains("expired"),
        "{}",
        text(&browser, "h1")
    );
    assert!(text(&browser, "main").contains("ask your photographer"));
    // A tampered link.
    let tampered = format!("{}x", &a_url[..a_url.len() - 1]);
    assert_eq!(http.get(&tampered, None).status, 403);

    // The studio page: sign in with the admin token (kept in sessionStorage,
    // never in the URL), clients, jobs and the favourite.
    browser.goto(&format!("{base}/studio"));
    browser.type_into("#token", &admin);
    browser.click("#login button[type=submit]");
    browser.wait_until(
        "the studio tables",
        "return !document.getElementById('app').hidden && document.querySelectorAll('#jobs tbody tr').length === 6;",
        10,
    );
    assert!(!browser
        .js("return location.href;")
        .as_str()
        .unwrap()
        .contains(&admin));
    let jobs_text = text(&browser, "#jobs");
    assert!(
        jobs_text.contains("completed") && jobs_text.contains('★'),
        "{jobs_text}"
    );
    assert!(
        text(&browser, "#clients").contains("<script>"),
        "client names are text"
    );
    assert_ne!(browser.js("return document.title;"), Value::from("pwned"));
    assert_eq!(
        browser.js("return document.getElementById('login').getBoundingClientRect().height;"),
        Value::from(0),
        "the sign-in form is gone once signed in"
    );
    browser.set_size(1280, 1200);
    browser.screenshot(&shots().join("studio.png"));
    // Retry of the failed job, from its row.
    assert_eq!(
        browser.js("return document.querySelectorAll('#jobs button.retry').length;"),
        Value::from(1)
    );
    browser.click("#jobs button.retry");
    assert!(
        server.log_contains(&format!("/v1/jobs/{failed_job}/retry")),
        "the retry request was not made"
    );
    let retried = http
        .get(&format!("/v1/jobs/{failed_job}"), Some(&admin))
        .json();
    assert_ne!(retried["attempts"], Value::Null, "{retried}");
    eprintln!("screenshots in {}", shots().display());
}
