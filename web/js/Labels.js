import * as THREE from 'three';

// Text as camera-facing sprites drawn on a canvas; each label owns its texture.
export class Labels {
  constructor() {
    this.group = new THREE.Group();
  }

  add(text, position, { colour = '#e6e9ec', size = 1, background = 'rgba(15,20,25,0.75)' } = {}) {
    const canvas = document.createElement('canvas');
    const ctx = canvas.getContext('2d');
    const font = '28px system-ui, sans-serif';
    ctx.font = font;
    const width = Math.ceil(ctx.measureText(text).width) + 16;
    canvas.width = width;
    canvas.height = 40;
    ctx.font = font;
    ctx.fillStyle = background;
    ctx.fillRect(0, 0, width, 40);
    ctx.fillStyle = colour;
    ctx.fillText(text, 8, 29);
    const texture = new THREE.CanvasTexture(canvas);
    texture.colorSpace = THREE.SRGBColorSpace;
    const sprite = new THREE.Sprite(new THREE.SpriteMaterial({ map: texture, depthTest: false }));
    sprite.scale.set((width / 40) * size, size, 1);
    sprite.position.copy(position);
    sprite.renderOrder = 10;
    this.group.add(sprite);
    return sprite;
  }

  // Level of detail for many labels: only the `max` nearest to `eye`, and only within
  // `within` metres (farther text is too small to read but costs a draw call each).
  // True when the set of shown labels changed.
  showNearest(eye, { max = 12, within = 120 } = {}) {
    const near = new Set(this.group.children
      .map((sprite) => [sprite.position.distanceTo(eye), sprite])
      .filter(([d]) => d <= within)
      .sort((a, b) => a[0] - b[0])
      .slice(0, max)
      .map(([, sprite]) => sprite));
    let changed = false;
    for (const sprite of this.group.children) {
      if (sprite.visible !== near.has(sprite)) { sprite.visible = near.has(sprite); changed = true; }
    }
    return changed;
  }

  remove(sprite) {
    this.group.remove(sprite);
    sprite.material.map.dispose();
    sprite.material.dispose();
  }

  dispose() {
    for (const sprite of [...this.group.children]) this.remove(sprite);
  }
}
