// ANSI SGR -> styled segments. Pure: no DOM, text stays text (the caller uses textContent).
// Colours are made legible on the page: a telnet palette assumes nothing about the
// background, but `|x` (SGR 30, black) on our near-black page could not be read at all.
const BASE16 = [
  "#000000", "#cd3131", "#0dbc79", "#e5e510", "#2472c8", "#bc3fbc", "#11a8cd", "#e5e5e5",
  "#666666", "#f14c4c", "#23d18b", "#f5f543", "#3b8eea", "#d670d6", "#29b8db", "#ffffff",
];

// The page's backgrounds (style.css --bg, normal and high contrast) and its text colour.
export const PAGE = { normal: "#0f1020", contrast: "#000000" };
const PAGE_FG = "#d8d8e8";
const MIN_CONTRAST = 4.5; // WCAG AA for normal text
const MIX_STEP = 0.05; // how far each step moves a colour towards white (or black)

export function color256(n) {
  if (n < 16) return BASE16[n];
  if (n < 232) {
    n -= 16;
    const v = [0, 95, 135, 175, 215, 255];
    return rgb(v[Math.floor(n / 36)], v[Math.floor(n / 6) % 6], v[n % 6]);
  }
  const g = 8 + (n - 232) * 10;
  return rgb(g, g, g);
}

function rgb(r, g, b) {
  const h = (x) => Math.max(0, Math.min(255, x | 0)).toString(16).padStart(2, "0");
  return `#${h(r)}${h(g)}${h(b)}`;
}

function channels(hex) {
  return [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
}

function luminance(hex) {
  const [r, g, b] = channels(hex).map((v) => {
    v /= 255;
    return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

// The WCAG 2 contrast ratio of two "#rrggbb" colours (1 to 21).
export function contrast(a, b) {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

// `fg`, moved towards white on a dark `bg` (towards black on a light one) until it reads.
export function legible(fg, bg) {
  const target = contrast("#ffffff", bg) >= contrast("#000000", bg) ? 255 : 0;
  const from = channels(fg);
  let col = fg;
  for (let step = 1; contrast(col, bg) < MIN_CONTRAST && step * MIX_STEP <= 1 + 1e-9; step++) {
    col = rgb(...from.map((v) => Math.round(v + (target - v) * step * MIX_STEP)));
  }
  return col;
}

export function freshState() {
  return { fg: null, bg: null, bold: false, underline: false, italic: false, inverse: false };
}

function apply(state, params) {
  const p = params.length ? params : [0];
  for (let i = 0; i < p.length; i++) {
    const c = p[i];
    if (c === 0) Object.assign(state, freshState());
    else if (c === 1) state.bold = true;
    else if (c === 3) state.italic = true;
    else if (c === 4) state.underline = true;
    else if (c === 7) state.inverse = true;
    else if (c === 22) state.bold = false;
    else if (c === 23) state.italic = false;
    else if (c === 24) state.underline = false;
    else if (c === 27) state.inverse = false;
    else if (c >= 30 && c <= 37) state.fg = BASE16[c - 30 + (state.bold ? 8 : 0)];
    else if (c === 39) state.fg = null;
    else if (c >= 40 && c <= 47) state.bg = BASE16[c - 40];
    else if (c === 49) state.bg = null;
    else if (c >= 90 && c <= 97) state.fg = BASE16[c - 90 + 8];
    else if (c >= 100 && c <= 107) state.bg = BASE16[c - 100 + 8];
    else if (c === 38 || c === 48) {
      let col = null;
      if (p[i + 1] === 5 && i + 2 < p.length) { col = color256(p[i + 2]); i += 2; }
      else if (p[i + 1] === 2 && i + 4 < p.length) { col = rgb(p[i + 2], p[i + 3], p[i + 4]); i += 4; }
      if (c === 38) state.fg = col; else state.bg = col;
    }
  }
}

// Split `text` (may hold ESC [ ... m) into [{text, fg, bg, bold, underline, italic}].
// `state` carries across calls (colour left on at the end of one chunk stays on); `page` is
// the background the text is shown on: every colour given comes back legible on its ground.
export function ansiSegments(text, state, page = PAGE.normal) {
  const out = [];
  const re = /\x1b\[([0-9;]*)([A-Za-z])/g;
  let last = 0;
  let m;
  const push = (t) => {
    if (!t) return;
    let { fg, bg } = state;
    if (state.inverse) [fg, bg] = [bg || "#000000", fg || "#e5e5e5"];
    if (fg || bg) fg = legible(fg || PAGE_FG, bg || page);
    out.push({ text: t, fg, bg, bold: state.bold, underline: state.underline, italic: state.italic });
  };
  while ((m = re.exec(text)) !== null) {
    push(text.slice(last, m.index));
    last = re.lastIndex;
    if (m[2] === "m") apply(state, m[1] === "" ? [] : m[1].split(";").map((x) => parseInt(x || "0", 10)));
  }
  // other control characters (a lone ESC, bell...) are dropped
  push(text.slice(last).replace(/[\x00-\x08\x0b-\x1f\x7f]/g, ""));
  return out.map((s) => ({ ...s, text: s.text.replace(/[\x00-\x08\x0b-\x1f\x7f]/g, "") })).filter((s) => s.text);
}

// Pieces of a plain string: [{text}|{url}], only http(s) URLs become links.
export function linkify(text) {
  const out = [];
  const re = /\bhttps?:\/\/[^\s<>"']+[^\s<>"'.,;:!?)\]]/g;
  let last = 0;
  let m;
  while ((m = re.exec(text)) !== null) {
    if (m.index > last) out.push({ text: text.slice(last, m.index) });
    out.push({ url: m[0] });
    last = re.lastIndex;
  }
  if (last < text.length) out.push({ text: text.slice(last) });
  return out;
}
