import { App } from './App.js';

const app = new App(document);
window.twinverse = app;
app.start().catch((error) => {
  console.error(error);
  document.getElementById('banner').textContent = `twinverse could not start: ${error.message}`;
  document.getElementById('banner').hidden = false;
});
