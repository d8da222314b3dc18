/* Elder-friendly checks run in the page (tests/web/test_browser.py): every control is a
   48 px target (a radio or checkbox counts with its label), every piece of text has a
   contrast of at least 4.5:1 against the background it sits on, stays inside the bordered box
   (card, table, badge's own box) it belongs to, and the page never scrolls sideways. Returns the
   problems found and the body text size. */
() => {
  const lum = (rgb) => {
    const c = rgb.match(/[\d.]+/g).slice(0, 3).map(Number).map(v => {
      v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
    return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
  };
  const background = (el) => {
    for (; el; el = el.parentElement) {
      const bg = getComputedStyle(el).backgroundColor;
      const alpha = (bg.match(/[\d.]+/g) || [0, 0, 0, 0])[3];
      if (bg && bg !== 'transparent' && alpha !== '0') return bg;
    }
    return 'rgb(255, 255, 255)';
  };
  const visible = (el) => { const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0 && getComputedStyle(el).visibility !== 'hidden'; };
  const problems = [];
  for (const el of document.querySelectorAll('a, button, input, select, textarea, summary')) {
    if (!visible(el) || el.type === 'hidden' || el.closest('.skip')) continue;
    const target = el.matches('input[type=radio], input[type=checkbox]') ? el.closest('label') || el : el;
    const r = target.getBoundingClientRect();
    if (r.height < 47.5 || r.width < 47.5) problems.push(`small target ${el.outerHTML.slice(0, 60)} ${r.width}x${r.height}`);
  }
  for (const el of document.querySelectorAll('body *')) {
    const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    if (!own || !visible(el) || el.closest('svg')) continue;
    const fg = getComputedStyle(el).color, bg = background(el);
    const [a, b] = [lum(fg), lum(bg)].sort((x, y) => y - x);
    const ratio = (a + 0.05) / (b + 0.05);
    if (ratio < 4.5) problems.push(`contrast ${ratio.toFixed(2)} ${el.tagName} "${el.textContent.trim().slice(0, 20)}"`);
  }
  const boxOf = (el) => {
    for (let up = el.parentElement; up && up !== document.body; up = up.parentElement) {
      const st = getComputedStyle(up);
      if (['Top', 'Right', 'Bottom', 'Left'].some(side => parseFloat(st[`border${side}Width`]) > 0)
          && st.overflowX === 'visible') return up;
    }
    return null;
  };
  for (const el of document.querySelectorAll('body *')) {
    const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    if (!own || !visible(el)) continue;
    const box = boxOf(el);
    if (!box) continue;
    const r = el.getBoundingClientRect(), b = box.getBoundingClientRect();
    if (r.right > b.right + 1 || r.left < b.left - 1)
      problems.push(`spills out of its box: ${el.tagName} "${el.textContent.trim().slice(0, 20)}" ${Math.round(r.left)}-${Math.round(r.right)} in ${Math.round(b.left)}-${Math.round(b.right)}`);
  }
  const page = document.documentElement;
  if (page.scrollWidth > page.clientWidth + 1)
    problems.push(`the page scrolls sideways: ${page.scrollWidth} > ${page.clientWidth}`);
  return {problems, bodyPx: parseFloat(getComputedStyle(document.body).fontSize)};
}
