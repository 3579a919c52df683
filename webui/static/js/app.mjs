// Start GOV.UK Frontend's component JavaScript (service navigation toggle, etc.).
// The bundle is copied into ../build/govuk/ by scripts/frontend.sh.
//
// Radios and Checkboxes are left as they are without JavaScript: their follow-up questions
// stay on show. GOV.UK's script would hide them and put aria-expanded on the radio, which ARIA
// does not allow there (axe's aria-allowed-attr), and our pages must pass axe with no exceptions.
import {
  Button,
  CharacterCount,
  ErrorSummary,
  NotificationBanner,
  ServiceNavigation,
  SkipLink,
  Tabs,
  createAll,
} from "../build/govuk/govuk-frontend.min.js";

for (const Component of [
  Button,
  CharacterCount,
  ErrorSummary,
  NotificationBanner,
  ServiceNavigation,
  SkipLink,
  Tabs,
]) {
  createAll(Component);
}

// Follow-up questions: show the one whose radio or checkbox is chosen, as GOV.UK's script does,
// but without putting aria-expanded on the input (the question follows it in reading order).
function syncConditionals(root) {
  for (const input of root.querySelectorAll("input[data-aria-controls]")) {
    const target = document.getElementById(input.dataset.ariaControls);
    if (target) {
      target.classList.toggle(
        target.className.includes("govuk-checkboxes")
          ? "govuk-checkboxes__conditional--hidden"
          : "govuk-radios__conditional--hidden",
        !input.checked,
      );
    }
  }
}

for (const group of document.querySelectorAll(".govuk-radios, .govuk-checkboxes")) {
  syncConditionals(group);
  group.addEventListener("change", () => syncConditionals(document));
}
