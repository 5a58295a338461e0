import { escape } from './WorldView.js';

// The room's chat: everyone's lines in their colour; Enter sends.
export class ChatPanel {
  constructor(list, form, input, { onSend }) {
    Object.assign(this, { list, form, input });
    form.onsubmit = (e) => {
      e.preventDefault();
      const text = input.value.trim();
      if (text) onSend(text);
      input.value = '';
    };
  }

  add({ name, colour, text, at }) {
    this.list.insertAdjacentHTML('beforeend', `<li><b style="color:${escape(colour)}">${escape(name)}</b> <small>${escape((at ?? '').slice(11, 16))}</small> ${escape(text)}</li>`);
    this.list.scrollTop = this.list.scrollHeight;
  }

  system(text, cls = 'hint') { this.list.insertAdjacentHTML('beforeend', `<li class="${cls}">${escape(text)}</li>`); }
}
