// <live-stock data-sku data-few>: a product's stock, kept current over
// server-sent events (/v1/inventory/{sku}/events). Disables "Add to cart"
// when nothing is left and enables it again when stock comes back.
class LiveStock extends HTMLElement {
  connectedCallback() {
    const few = Number(this.dataset.few || 5);
    this.source = new EventSource(`/v1/inventory/${encodeURIComponent(this.dataset.sku)}/events`);
    this.source.addEventListener('message', (event) => {
      let level;
      try { level = JSON.parse(event.data); } catch { return; }
      const available = level.available;
      const [text, kind] = available === 0 ? ['Out of stock', 'out']
        : available <= few ? [`Only ${available} left`, 'few'] : ['In stock', 'in'];
      this.textContent = text;
      this.className = `stock stock-${kind}`;
      const button = this.closest('.product-info')?.querySelector('.add-to-cart button[type=submit]');
      if (button) button.disabled = available === 0;
    });
  }

  disconnectedCallback() {
    this.source?.close();
  }
}
customElements.define('live-stock', LiveStock);
