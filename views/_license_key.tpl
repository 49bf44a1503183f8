% if key is not None:
<span class="license-key small">License key <code>{{key.key}}</code> · {{key_state(key)}}{{' · until ' + key.expires_at.strftime('%d %b %Y') if key.expires_at else ''}} · {{key.activation_count}} of {{key.activation_limit}} activations</span>
% end
