// Runs before the page is drawn: the stylesheet then hides the no-JavaScript fallbacks.
document.documentElement.classList.replace("no-js", "js");
