// The demo shop's "Chat with us" button opens the widget (kept out of the page so that
// the Content-Security-Policy can forbid inline scripts).
document.getElementById("open-chat").addEventListener("click", () => {
  if (window.SupportWidget) window.SupportWidget.open();
});
