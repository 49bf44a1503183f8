% rebase('base.tpl')
<section class="panel form-panel">
  <h1>My storefront</h1>
  <p class="muted">Buyers see this on <a href="{{user.storefront_path}}">your storefront</a>, with your name and the products you have on sale.</p>
  % if errors:
  <div class="flash flash-error" role="alert">{{get('error_message') or 'Please correct the errors below.'}}</div>
  % end
  <form method="post" enctype="multipart/form-data" action="/seller/profile" class="stack">
    <input type="hidden" name="csrf_token" value="{{csrf_token}}">
    % include('_field.tpl', name='bio', label='About you', type='textarea', rows=6, value=form.get('bio'), attrs='maxlength="2000"', hint='Up to 2000 characters. Separate paragraphs with an empty line.')
    % include('_field.tpl', name='avatar', label='Picture', type='file', value='', attrs='accept="image/jpeg,image/png,image/webp,image/gif"', hint='JPEG, PNG, WebP or GIF up to %d MB; square looks best.' % limits['thumbnail_mb'])
    % avatar = profile.avatar_url(96)
    % if avatar:
    <p><img class="avatar" src="{{avatar}}" alt="Current picture" width="96" height="96"> <span class="muted small">Current picture. Leave empty to keep it.</span></p>
    % elif profile.avatar_state == 'processing':
    <p class="hint">Your new picture is being processed.</p>
    % elif profile.avatar_state == 'failed':
    <p class="field-error">The last picture could not be used: {{profile.avatar_error}}</p>
    % end
    <div class="form-actions"><button class="button" type="submit">Save</button></div>
  </form>
</section>
