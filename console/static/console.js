// Tollgate admin center: the only script. Copy buttons copy the text of the
// element their data-copy selector names, and say so to screen readers.
"use strict";
document.addEventListener("click", async (ev) => {
  const btn = ev.target.closest("button.copy");
  if (!btn) return;
  const src = document.querySelector(btn.dataset.copy);
  if (!src) return;
  const text = src.innerText.trim();
  let ok = false;
  try {
    await navigator.clipboard.writeText(text);
    ok = true;
  } catch (e) {
    // Without the clipboard API (plain HTTP on a non-local address), select
    // the text so Ctrl+C copies it.
    const range = document.createRange();
    range.selectNodeContents(src);
    const sel = window.getSelection();
    sel.removeAllRanges();
    sel.addRange(range);
  }
  const msg = ok ? "Copied" : "Selected: press Ctrl+C to copy";
  const live = document.getElementById("live");
  if (live) live.textContent = msg;
  const label = btn.dataset.label || btn.textContent;
  btn.dataset.label = label;
  btn.textContent = msg;
  setTimeout(() => { btn.textContent = label; }, 2500);
});
