// ANSI SGR -> styled segments. Pure: no DOM, text stays text (the caller uses textContent).
const BASE16 = [
  "#000000", "#cd3131", "#0dbc79", "#e5e510", "#2472c8", "#bc3fbc", "#11a8cd", "#e5e5e5",
  "#666666", "#f14c4c", "#23d18b", "#f5f543", "#3b8eea", "#d670d6", "#29b8db", "#ffffff",
];

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
// `state` carries across calls (colour left on at the end of one chunk stays on).
export function ansiSegments(text, state) {
  const out = [];
  const re = /\x1b\[([0-9;]*)([A-Za-z])/g;
  let last = 0;
  let m;
  const push = (t) => {
    if (!t) return;
    let { fg, bg } = state;
    if (state.inverse) [fg, bg] = [bg || "#000000", fg || "#e5e5e5"];
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
