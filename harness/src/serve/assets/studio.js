// The studio page: the admin token is kept in this tab's sessionStorage and
// sent as a bearer token to the JSON API. Everything from the server is
// written with textContent (never as HTML).
"use strict";
(function () {
  const KEY = "rawflow-admin-token";
  const $ = (id) => document.getElementById(id);
  const login = $("login"), app = $("app"), status = $("status"), logout = $("logout");
  let data = { clients: [], jobs: [], favs: new Set(), shares: {} };

  function el(tag, text, cls) {
    const n = document.createElement(tag);
    if (text !== undefined && text !== null) n.textContent = String(text);
    if (cls) n.className = cls;
    return n;
  }

  async function api(method, path, body) {
    const token = sessionStorage.getItem(KEY);
    const r = await fetch(path, {
      method,
      headers: Object.assign({ Authorization: "Bearer " + token }, body ? { "Content-Type": "application/json" } : {}),
      body: body ? JSON.stringify(body) : undefined,
    });
    const j = await r.json().catch(() => ({}));
    if (!r.ok) { const e = new Error(j.error || ("HTTP " + r.status)); e.status = r.status; throw e; }
    return j;
  }

  function seconds(job) {
    return (job.timings ? Object.values(job.timings) : []).reduce((a, b) => a + b, 0);
  }
  function fmtSecs(s) { return s ? s.toFixed(2) + " s" : ""; }
  function span(job) {
    if (!job.finished_at) return "";
    const ms = Date.parse(job.finished_at) - Date.parse(job.created_at);
    return isFinite(ms) ? (ms / 1000).toFixed(1) + " s" : "";
  }

  async function load() {
    const [c, j, f] = await Promise.all([
      api("GET", "/v1/clients"), api("GET", "/v1/jobs?limit=2000"), api("GET", "/v1/favourites"),
    ]);
    data.clients = c.clients;
    data.jobs = j.jobs;
    data.favs = new Set(f.favourites.map((x) => x.job_id));
    const shares = await Promise.all(data.clients.map((cl) => api("GET", "/v1/clients/" + cl.client_id + "/shares")));
    data.shares = {};
    data.clients.forEach((cl, i) => { data.shares[cl.client_id] = shares[i].shares; });
    render();
  }

  function clientName(id) {
    const c = data.clients.find((x) => x.client_id === id);
    return c ? c.name : id;
  }

  function render() {
    const counts = {};
    for (const s of ["awaiting_upload", "pending", "running", "completed", "failed", "cancelled", "upload_expired"]) counts[s] = 0;
    for (const j of data.jobs) counts[j.status] = (counts[j.status] || 0) + 1;
    status.textContent = data.clients.length + " clients · " + data.jobs.length + " jobs: " +
      counts.completed + " completed, " + (counts.awaiting_upload + counts.pending + counts.running) + " in progress, " + counts.failed + " failed";

    const cbody = $("clients").querySelector("tbody");
    cbody.replaceChildren();
    for (const c of data.clients) {
      const tr = el("tr");
      const name = el("td");
      name.append(el("strong", c.name), el("div", c.client_id, "muted mono"));
      if (c.revoked_at) name.append(el("div", "revoked " + c.revoked_at.slice(0, 10), "bad"));
      const mine = data.jobs.filter((j) => j.client_id === c.client_id);
      tr.append(name, el("td", mine.filter((j) => j.status === "completed").length + " / " + mine.length),
        el("td", mine.filter((j) => data.favs.has(j.job_id)).length));
      const links = el("td");
      const ul = el("ul", null, "links");
      for (const s of data.shares[c.client_id] || []) {
        const li = el("li");
        const state = s.revoked_at ? "revoked" : (s.expired ? "expired" : "until " + s.expires_at.slice(0, 10));
        const a = el("a", "gallery link", s.revoked_at || s.expired ? "muted" : "");
        a.href = s.gallery_url;
        a.target = "_blank";
        a.rel = "noopener noreferrer";
        li.append(a, el("span", " " + state + " ", "muted"));
        if (!s.revoked_at && !s.expired) {
          const b = el("button", "Revoke", "small");
          b.type = "button";
          b.addEventListener("click", async () => {
            if (!confirm("Revoke this link? Whoever has it will no longer see the photos.")) return;
            await api("POST", "/v1/shares/" + s.share_id + "/revoke");
            load();
          });
          li.append(b);
        }
        ul.append(li);
      }
      links.append(ul);
      tr.append(links);
      const act = el("td");
      if (!c.revoked_at) {
        const b = el("button", "New share link", "small");
        b.type = "button";
        b.addEventListener("click", async () => {
          await api("POST", "/v1/clients/" + c.client_id + "/shares", { expires_in: "30d" });
          load();
        });
        act.append(b);
      }
      tr.append(act);
      cbody.append(tr);
    }

    const want = $("status-filter").value, favOnly = $("fav-filter").checked;
    const jbody = $("jobs").querySelector("tbody");
    jbody.replaceChildren();
    for (const j of data.jobs) {
      if (want && j.status !== want) continue;
      if (favOnly && !data.favs.has(j.job_id)) continue;
      const tr = el("tr");
      const file = el("td");
      file.append(el("span", j.filename), el("div", j.job_id, "muted mono"));
      tr.append(file, el("td", clientName(j.client_id)), el("td", j.status, "status " + j.status),
        el("td", j.attempts), el("td", fmtSecs(seconds(j))), el("td", span(j)),
        el("td", data.favs.has(j.job_id) ? "★" : ""));
      const err = el("td", j.error || "", "bad");
      if (j.status === "failed") {
        const b = el("button", "Retry", "small retry");
        b.type = "button";
        b.addEventListener("click", async () => {
          b.disabled = true;
          try { await api("POST", "/v1/jobs/" + j.job_id + "/retry"); } catch (e) { alert("Retry refused: " + e.message); }
          load();
        });
        err.append(el("div"), b);
      }
      tr.append(err);
      jbody.append(tr);
    }
  }

  async function start() {
    try {
      await load();
      login.hidden = true;
      app.hidden = false;
      logout.hidden = false;
    } catch (e) {
      if (e.status === 401 || e.status === 403) {
        sessionStorage.removeItem(KEY);
        $("login-error").textContent = "That token was not accepted.";
      } else {
        $("login-error").textContent = "The server could not be reached: " + e.message;
      }
      login.hidden = false;
      app.hidden = true;
    }
  }

  login.addEventListener("submit", (e) => {
    e.preventDefault();
    sessionStorage.setItem(KEY, $("token").value.trim());
    $("token").value = "";
    start();
  });
  logout.addEventListener("click", () => {
    sessionStorage.removeItem(KEY);
    location.reload();
  });
  $("status-filter").addEventListener("change", render);
  $("fav-filter").addEventListener("change", render);
  if (sessionStorage.getItem(KEY)) start();
  setInterval(() => { if (!app.hidden && !document.hidden) load().catch(() => {}); }, 5000);
})();
