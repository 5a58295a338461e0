// Machine state -> colour of its mesh, as a table; unknown states show as `unknown`.
export const STATE_COLOURS = Object.freeze({
  running: '#2ecc71',
  busy: '#2ecc71',
  idle: '#f1c40f',
  starved: '#f1c40f',
  blocked: '#e67e22',
  setup: '#3498db',
  down: '#e74c3c',
  alarm: '#ff2d55',
  off: '#5d6d7e',
  unknown: '#9aa5b1',
});

export const ALARM_STATES = new Set(['down', 'alarm']);

export function colourOfState(state) {
  return STATE_COLOURS[state] ?? STATE_COLOURS.unknown;
}

// Site status in the world view.
export const SITE_STATUS_COLOURS = Object.freeze({ normal: '#2ecc71', disrupted: '#f39c12', down: '#e74c3c' });

// Transport mode -> lane colour.
export const MODE_COLOURS = Object.freeze({ sea: '#3d8bfd', rail: '#b07cff', road: '#f6c344', air: '#ff6b9a', pipeline: '#6ee7b7' });
