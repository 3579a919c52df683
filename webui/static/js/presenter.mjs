// The presenter view's keys: N next step, B back, A clock +5 working days, D to the next
// deadline. Each presses the button that carries the same data-key, so the keys do exactly what
// the buttons do. Single-letter keys can be switched off with the checkbox (WCAG 2.1.4), and are
// ignored while typing in a field or with a modifier held.

const toggle = document.getElementById("present-keys");

document.addEventListener("keydown", (event) => {
  if (toggle && !toggle.checked) return;
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  const target = event.target;
  if (target instanceof HTMLElement && target.closest("input:not([type=checkbox]), textarea, select")) return;
  const button = document.querySelector(`button[data-key="${event.key.toLowerCase()}"]`);
  if (button && !button.disabled) {
    event.preventDefault();
    button.click();
  }
});
