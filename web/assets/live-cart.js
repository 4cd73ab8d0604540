// The live cart: one WebSocket per page on the visitor's cart
// (/v1/carts/{id}/ws). Every snapshot updates <live-cart-count> in the
// header; <live-cart> re-fetches its server-rendered section, so a change
// made in another tab or device shows here without a reload.
const listeners = new Set();
let socket;
let retry = 500;

function connect(cartId) {
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  socket = new WebSocket(`${scheme}://${location.host}/v1/carts/${encodeURIComponent(cartId)}/ws`);
  socket.addEventListener('open', () => { retry = 500; });
  socket.addEventListener('message', (event) => {
    let message;
    try { message = JSON.parse(event.data); } catch { return; }
    if (message.type !== 'cart') return;
    for (const listener of listeners) listener(message.cart);
  });
  socket.addEventListener('close', () => {
    setTimeout(() => connect(cartId), retry);
    retry = Math.min(retry * 2, 15000);
  });
}

function follow(cartId, listener) {
  if (!cartId) return;
  listeners.add(listener);
  if (!socket) connect(cartId);
}

class LiveCartCount extends HTMLElement {
  connectedCallback() {
    follow(this.dataset.cart, (cart) => {
      const units = cart.status === 'open' ? cart.items.reduce((sum, item) => sum + item.qty, 0) : 0;
      this.textContent = String(units);
    });
  }
}

class LiveCart extends HTMLElement {
  connectedCallback() {
    this.version = null;
    follow(this.dataset.cart, (cart) => {
      if (this.version !== null && cart.version !== this.version) this.refresh();
      this.version = cart.version;
    });
  }

  async refresh() {
    const response = await fetch(this.dataset.fragment, { credentials: 'same-origin' });
    if (!response.ok) return;
    const focused = document.activeElement?.id;
    this.innerHTML = await response.text();
    if (focused) document.getElementById(focused)?.focus();
  }
}

customElements.define('live-cart-count', LiveCartCount);
customElements.define('live-cart', LiveCart);
