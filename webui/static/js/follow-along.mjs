// The trainee's follow-along page: every few seconds ask whether the trainer moved the training
// case (a step, the clock, going back); when they did, load the page again. Stops when the link
// has expired or been deleted, and says so.

const POLL_MS = 4000;

const root = document.getElementById("follow-along");
if (root) {
  const status = document.getElementById("follow-status");
  const poll = async () => {
    try {
      const response = await fetch(root.dataset.stateUrl, {
        credentials: "omit",
        headers: { Accept: "application/json" },
      });
      if (response.status === 404) {
        if (status) status.textContent = "This follow-along link has expired. Ask the trainer for a new one.";
        return;
      }
      if (response.ok) {
        const state = await response.json();
        if (state.signature !== root.dataset.signature) {
          window.location.reload();
          return;
        }
      }
    } catch (error) {
      console.error(error);
    }
    window.setTimeout(poll, POLL_MS);
  };
  window.setTimeout(poll, POLL_MS);
}
