//! The studio's command line against a real `rawflow serve`: clients, a
//! resumable parallel upload with `--wait`, jobs, fetch, share links,
//! revocation and exit statuses.

mod common;

use std::collections::HashSet;

use common::{data_dir, decode_jpeg, rawflow, sample_dng, Api, ServerProc};

#[test]
fn clients_upload_wait_jobs_fetch_and_revoke() {
    let data = data_dir();
    let server = ServerProc::start(data.path(), &["--workers", "1", "--poll-ms", "50"]);
    let admin = server.admin.clone().expect("admin token");
    let base = server.base.clone();

    // clients add → id, token (once), gallery link.
    let add = rawflow(
        &base,
        Some(&admin),
        &["clients", "add", "Ana & Bo", "--json"],
    );
    assert_eq!(add.code, 0, "{}", add.stderr);
    let v = add.json();
    let client = v["client_id"].as_str().unwrap().to_string();
    let client_token = v["token"].as_str().unwrap().to_string();
    let gallery = v["gallery_url"].as_str().unwrap().to_string();
    assert!(gallery.starts_with(&format!("{base}/g/")), "{gallery}");

    // A shoot in two folders (one nested), plus a file that is not RAW.
    let shoot = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(shoot.path().join("day2")).unwrap();
    for (i, name) in ["IMG_0001.dng", "IMG_0002.dng", "day2/IMG (3).dng"]
        .iter()
        .enumerate()
    {
        std::fs::write(shoot.path().join(name), sample_dng(96, 64, i as u32 + 1)).unwrap();
    }
    std::fs::write(shoot.path().join("notes.txt"), "not a photo").unwrap();
    let dir = shoot.path().to_str().unwrap();

    let up = rawflow(
        &base,
        Some(&admin),
        &[
            "upload", "--client", &client, "--jobs", "2", "--wait", "--json", dir,
        ],
    );
    assert_eq!(up.code, 0, "{}\n{}", up.stdout, up.stderr);
    let v = up.json();
    assert_eq!(v["uploaded"], 3, "{v}");
    assert_eq!(v["failed"], 0);
    let jobs = v["jobs"].as_array().unwrap();
    assert_eq!(jobs.len(), 3);
    assert!(jobs.iter().all(|j| j["status"] == "completed"), "{v}");
    // Every job made the gallery thumbnail in the same development.
    for j in jobs {
        let names: HashSet<&str> = j["outputs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, HashSet::from(["web", "thumb"]), "{j}");
    }

    // A second run sends nothing: every file is known by its content hash.
    let again = rawflow(
        &base,
        Some(&admin),
        &["upload", "--client", &client, "--json", dir],
    );
    assert_eq!(again.code, 0, "{}", again.stderr);
    let v = again.json();
    assert_eq!(
        (v["uploaded"].clone(), v["skipped"].clone()),
        (0.into(), 3.into()),
        "{v}"
    );

    // jobs: table and JSON; the client's token sees its own jobs.
    let table = rawflow(&base, Some(&admin), &["jobs", "--client", &client]);
    assert_eq!(table.code, 0, "{}", table.stderr);
    assert!(table.stdout.starts_with("JOB"), "{}", table.stdout);
    assert_eq!(table.stdout.lines().count(), 4, "{}", table.stdout);
    let mine = rawflow(&base, Some(&client_token), &["jobs", "--json"]);
    assert_eq!(mine.code, 0, "{}", mine.stderr);
    assert_eq!(mine.json()["jobs"].as_array().unwrap().len(), 3);
    let bad = rawflow(&base, Some(&admin), &["jobs", "--status", "nope"]);
    assert_eq!(bad.code, 2, "{}", bad.stderr);

    // fetch with the client's token: every rendition, then nothing new.
    let out = tempfile::tempdir().unwrap();
    let o = out.path().to_str().unwrap();
    let f = rawflow(&base, Some(&client_token), &["fetch", "-o", o, "--json"]);
    assert_eq!(f.code, 0, "{}", f.stderr);
    assert_eq!(f.json()["downloaded"], 6, "{}", f.stdout);
    let web = std::fs::read(out.path().join("IMG (3)-web.jpg")).unwrap();
    assert_eq!(decode_jpeg(&web), (96, 64));
    let leftovers: Vec<_> = std::fs::read_dir(out.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left behind");
    // A damaged file is fetched again; the others are left alone.
    std::fs::write(out.path().join("IMG_0001-web.jpg"), b"cut").unwrap();
    let f2 = rawflow(&base, Some(&client_token), &["fetch", "-o", o, "--json"]);
    assert_eq!(f2.code, 0, "{}", f2.stderr);
    let v = f2.json();
    assert_eq!(
        (v["downloaded"].clone(), v["present"].clone()),
        (1.into(), 5.into()),
        "{v}"
    );

    // Share links: a second one; revoking the first leaves the second working.
    let share = rawflow(
        &base,
        Some(&admin),
        &["clients", "share", &client, "--expires", "2h", "--json"],
    );
    assert_eq!(share.code, 0, "{}", share.stderr);
    let second = share.json()["gallery_url"].as_str().unwrap().to_string();
    let list = rawflow(
        &base,
        Some(&admin),
        &["clients", "shares", &client, "--json"],
    );
    let shares = list.json()["shares"].as_array().unwrap().clone();
    assert_eq!(shares.len(), 2);
    let first_id = shares
        .iter()
        .find(|s| s["gallery_url"] == gallery.as_str())
        .unwrap()["share_id"]
        .as_str()
        .unwrap()
        .to_string();
    let un = rawflow(&base, Some(&admin), &["clients", "unshare", &first_id]);
    assert_eq!(un.code, 0, "{}", un.stderr);
    let http = Api::new(&base);
    assert_eq!(http.get(&gallery, None).status, 403);
    // The server's log names links by share id, never by their signature.
    let sig = gallery.rsplit('.').next().unwrap();
    assert!(!server.log().contains(sig), "a share signature was logged");
    assert_eq!(http.get(&second, None).status, 200);

    // clients list shows it; revoke ends the token and every link.
    let l = rawflow(&base, Some(&admin), &["clients", "list"]);
    assert!(
        l.stdout.contains("Ana & Bo") && l.stdout.contains("active"),
        "{}",
        l.stdout
    );
    let r = rawflow(&base, Some(&admin), &["clients", "revoke", &client]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(http.get(&second, None).status, 403);
    let denied = rawflow(&base, Some(&client_token), &["jobs"]);
    assert_eq!(denied.code, 3, "{}", denied.stderr);

    // Exit statuses: no token 2, a client's token on admin commands 3,
    // nothing to upload 2, server unreachable 3.
    assert_eq!(rawflow(&base, None, &["clients", "list"]).code, 2);
    let other = rawflow(&base, Some(&admin), &["clients", "add", "Cy", "--json"]).json();
    let other_token = other["token"].as_str().unwrap();
    assert_eq!(
        rawflow(&base, Some(other_token), &["clients", "list"]).code,
        3
    );
    // A client's token lists its own jobs only, and cannot name another client.
    let own = rawflow(&base, Some(other_token), &["jobs", "--json"]);
    assert_eq!(own.json()["jobs"], serde_json::json!([]), "{}", own.stdout);
    assert_eq!(
        rawflow(&base, Some(other_token), &["jobs", "--client", &client]).code,
        3
    );
    let empty = tempfile::tempdir().unwrap();
    let none = rawflow(
        &base,
        Some(&admin),
        &[
            "upload",
            "--client",
            &client,
            empty.path().to_str().unwrap(),
        ],
    );
    assert_eq!(none.code, 2, "{}", none.stderr);
    assert_eq!(
        rawflow("http://127.0.0.1:9", Some(&admin), &["clients", "list"]).code,
        3
    );
}

#[test]
fn upload_of_a_bad_file_exits_1_after_wait() {
    let data = data_dir();
    let server = ServerProc::start(data.path(), &["--workers", "1", "--poll-ms", "50"]);
    let admin = server.admin.clone().unwrap();
    let base = server.base.clone();
    let v = rawflow(&base, Some(&admin), &["clients", "add", "Dee", "--json"]).json();
    let client = v["client_id"].as_str().unwrap();
    let shoot = tempfile::tempdir().unwrap();
    std::fs::write(shoot.path().join("good.dng"), sample_dng(64, 48, 7)).unwrap();
    std::fs::write(shoot.path().join("broken.dng"), b"II*\0 this is not a DNG").unwrap();
    let up = rawflow(
        &base,
        Some(&admin),
        &[
            "upload",
            "--client",
            client,
            "--wait",
            shoot.path().to_str().unwrap(),
        ],
    );
    assert_eq!(up.code, 1, "{}\n{}", up.stdout, up.stderr);
    assert!(up.stderr.contains("1 completed, 1 failed"), "{}", up.stderr);
    assert!(up.stdout.contains("broken.dng"), "{}", up.stdout);
}
