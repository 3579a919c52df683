// Start GOV.UK Frontend's component JavaScript (service navigation toggle, etc.).
// The bundle is copied into ../build/govuk/ by scripts/frontend.sh.
import { initAll } from "../build/govuk/govuk-frontend.min.js";

initAll();
