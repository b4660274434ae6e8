// The client gallery: lightbox with keyboard navigation, favourites.
// Plain script, no inline handlers (the page's CSP allows only this file).
"use strict";
(function () {
  const grid = document.getElementById("grid");
  if (!grid) return;
  const items = Array.from(grid.querySelectorAll("li.photo"));
  const box = document.getElementById("lightbox");
  const img = document.getElementById("lb-img");
  const title = document.getElementById("lb-title");
  const count = document.getElementById("lb-count");
  const fav = document.getElementById("lb-fav");
  const downloads = document.getElementById("lb-downloads");
  const closeBtn = document.getElementById("lb-close");
  const prevBtn = document.getElementById("lb-prev");
  const nextBtn = document.getElementById("lb-next");
  let current = -1;
  let opener = null;

  function favButton(li) { return li.querySelector("button.fav"); }
  function isFav(li) { return favButton(li).getAttribute("aria-pressed") === "true"; }
  function paintFav(button, on) {
    button.setAttribute("aria-pressed", on ? "true" : "false");
    button.textContent = on ? "★" : "☆";
  }

  function show(i) {
    current = (i + items.length) % items.length;
    const li = items[current];
    img.src = li.dataset.view;
    img.alt = li.dataset.title;
    title.textContent = li.dataset.title;
    count.textContent = (current + 1) + " / " + items.length;
    paintFav(fav, isFav(li));
    downloads.replaceChildren(...Array.from(li.querySelectorAll(".downloads > li"), (n) => n.cloneNode(true)));
    box.dataset.index = String(current);
    // Warm the neighbours so arrow keys feel instant.
    for (const d of [-1, 1]) {
      const n = items[(current + d + items.length) % items.length];
      const pre = new Image();
      pre.src = n.dataset.view;
    }
  }

  function open(i, from) {
    opener = from || null;
    box.hidden = false;
    document.body.classList.add("lb-open");
    show(i);
    closeBtn.focus();
  }

  function close() {
    box.hidden = true;
    document.body.classList.remove("lb-open");
    img.removeAttribute("src");
    current = -1;
    if (opener) opener.focus();
  }

  async function toggle(li) {
    const on = !isFav(li);
    paintFav(favButton(li), on);
    if (current >= 0 && items[current] === li) paintFav(fav, on);
    const url = location.pathname.replace(/\/$/, "") + "/favourites/" + encodeURIComponent(li.dataset.job);
    try {
      const r = await fetch(url, { method: on ? "PUT" : "DELETE", credentials: "same-origin" });
      if (!r.ok) throw new Error("HTTP " + r.status);
    } catch (e) {
      paintFav(favButton(li), !on);
      if (current >= 0 && items[current] === li) paintFav(fav, !on);
      alert("The favourite could not be saved. Please try again.");
    }
  }

  items.forEach((li, i) => {
    const openBtn = li.querySelector("button.open");
    openBtn.addEventListener("click", () => open(i, openBtn));
    favButton(li).addEventListener("click", () => toggle(li));
  });
  closeBtn.addEventListener("click", close);
  prevBtn.addEventListener("click", () => show(current - 1));
  nextBtn.addEventListener("click", () => show(current + 1));
  fav.addEventListener("click", () => { if (current >= 0) toggle(items[current]); });
  box.addEventListener("click", (e) => { if (e.target === box || e.target.classList.contains("lb-stage")) close(); });

  document.addEventListener("keydown", (e) => {
    if (box.hidden) return;
    if (e.key === "ArrowRight") { e.preventDefault(); show(current + 1); }
    else if (e.key === "ArrowLeft") { e.preventDefault(); show(current - 1); }
    else if (e.key === "Escape") { e.preventDefault(); close(); }
    else if (e.key === "Tab") {
      // Keep focus inside the dialog.
      const f = Array.from(box.querySelectorAll("button, a[href]")).filter((n) => !n.hidden);
      if (f.length === 0) return;
      const first = f[0], last = f[f.length - 1];
      if (e.shiftKey && document.activeElement === first) { e.preventDefault(); last.focus(); }
      else if (!e.shiftKey && document.activeElement === last) { e.preventDefault(); first.focus(); }
    }
  });

  // Swipe on touch screens.
  let x0 = null;
  box.addEventListener("touchstart", (e) => { x0 = e.touches[0].clientX; }, { passive: true });
  box.addEventListener("touchend", (e) => {
    if (x0 === null) return;
    const dx = e.changedTouches[0].clientX - x0;
    if (Math.abs(dx) > 40) show(current + (dx < 0 ? 1 : -1));
    x0 = null;
  });
})();
