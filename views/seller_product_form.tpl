% rebase('base.tpl')
<section class="panel form-panel">
  <p class="eyebrow"><a href="/seller/products">← My products</a></p>
  % if product:
  <h1>Edit “{{product.title}}”</h1>
  % else:
  <h1>New product</h1>
  <p class="muted">Every product is checked by a moderator before it goes on sale. You will get a notification and an email with the decision.</p>
  % end
  % if product and product.status == 'approved':
  <div class="flash flash-warning">This product is on sale. A new title, description, file or thumbnail hides it from the shop until it has been reviewed again; a new price applies at once.</div>
  % elif product and product.status == 'rejected':
  <div class="flash flash-error"><strong>Not approved:</strong> {{product.rejection_reason or 'no reason was given.'}} Saving sends it for review again.</div>
  % elif product and product.status == 'pending':
  <div class="flash">This product is waiting for review.</div>
  % end
  % if errors:
  <div class="flash flash-error" role="alert">{{get('error_message') or 'Please correct the errors below.'}}
    % if product is None or errors.get('thumbnail') or errors.get('file'):
    Files are not kept when the form has errors: choose them again.
    % end
  </div>
  % end
  <form method="post" enctype="multipart/form-data" action="{{'/seller/products/%d/edit' % product.id if product else '/seller/products'}}" class="stack product-form">
    <input type="hidden" name="csrf_token" value="{{csrf_token}}">
    % include('_field.tpl', name='title', label='Title', value=form.get('title'), required=True, attrs='maxlength="120"')
    % include('_field.tpl', name='description', label='Description', type='textarea', rows=7, value=form.get('description'), required=True, hint='What buyers get, formats, and what it is good for. Separate paragraphs with an empty line.')
    % include('_field.tpl', name='price', label='Price (%s)' % limits['currency'], value=form.get('price'), required=True, attrs='inputmode="decimal" autocomplete="off" placeholder="12.50"', hint='Buyers pay this amount; the platform keeps its commission from each sale.')
    <fieldset class="selling-options">
      <legend>Selling options</legend>
      <label class="check"><input type="checkbox" name="pay_what_you_want" value="1"{{!' checked' if form.get('pay_what_you_want') else ''}}> Pay what you want: the price above is the suggestion, and buyers name their own</label>
      % include('_field.tpl', name='min_price', label='Least a buyer may pay (%s)' % limits['currency'], value=form.get('min_price'), attrs='inputmode="decimal" autocomplete="off" placeholder="0"', hint='Zero makes the product free to anyone who wants it; a free order needs no payment.')
      <label class="check"><input type="checkbox" name="license_keys" value="1"{{!' checked' if form.get('license_keys') else ''}}> Issue a license key with each sale</label>
      % include('_field.tpl', name='license_activations', label='Activations per key', value=form.get('license_activations'), attrs='inputmode="numeric" placeholder="1"', hint='How many installations your software may activate with one key (the license API refuses more).')
      % include('_field.tpl', name='license_days', label='Days a key lasts', value=form.get('license_days'), attrs='inputmode="numeric"', hint='Counted from the sale; leave empty for keys that never expire.')
    </fieldset>
    <div class="form-row">
      <div class="field{{' has-error' if errors.get('category') else ''}}">
        <label for="f-category">Category</label>
        <select id="f-category" name="category">
          <option value="">No category</option>
          % for category in get('categories', ()):
          <option value="{{category.id}}"{{!' selected' if form.get('category') == str(category.id) else ''}}>{{category.name}}</option>
          % end
        </select>
        % if errors.get('category'):
        <p class="field-error">{{errors['category']}}</p>
        % end
      </div>
      <div>
        % include('_field.tpl', name='tags', label='Tags', value=form.get('tags'), attrs='maxlength="400" autocomplete="off" placeholder="lo-fi, drums, samples"', hint='Up to 10, separated by commas. Buyers find your product by them.')
      </div>
    </div>
    <div class="form-row">
      <div>
        % file_hint = 'Any format, up to %d MB. Only buyers can download it.' % limits['file_mb']
        % if product:
        % file_hint = 'Current file: %s (%s). Leave empty to keep it.' % (product.file_name or 'none', filesize(product.file_size))
        % end
        % include('_field.tpl', name='file', label='Product file', type='file', value='', required=product is None, hint=file_hint)
      </div>
      <div>
        % include('_field.tpl', name='thumbnail', label='Cover image', type='file', value='', attrs='accept="image/jpeg,image/png,image/webp,image/gif"', hint='JPEG, PNG, WebP or GIF up to %d MB; 4:3 looks best (for example 1200 × 900).' % limits['thumbnail_mb'])
        % if product:
        %   thumb = product.thumbnail_url(160)
        %   if thumb:
        <p class="current-thumb"><img src="{{thumb}}" alt="Current cover" width="160" height="120"> <span class="muted small">Current cover. Leave empty to keep it.</span></p>
        %   elif product.thumbnail_state == 'processing':
        <p class="hint">The current cover is still being processed.</p>
        %   elif product.thumbnail_state == 'failed':
        <p class="field-error">The last cover could not be used: {{product.thumbnail_error}}</p>
        %   end
        % end
      </div>
    </div>
    <div class="field{{' has-error' if errors.get('extra_files') else ''}}">
      <label for="f-extra_files">More files</label>
      <input id="f-extra_files" name="extra_files" type="file" multiple>
      <p class="hint">Sold with the product file, up to {{limits['file_mb']}} MB each and 10 files in all; buyers download each one, or all of them as one ZIP.</p>
      % if errors.get('extra_files'):
      <p class="field-error">{{errors['extra_files']}}</p>
      % end
      % if len(get('product_files', ())) > 1:
      <ul class="product-files">
        % for product_file in product_files[1:]:
        <li><label><input type="checkbox" name="remove_file" value="{{product_file.id}}"> Remove {{product_file.name}} ({{filesize(product_file.size)}})</label></li>
        % end
      </ul>
      % end
    </div>
    <div class="field">
      <label><input type="checkbox" name="stamp_pdfs" value="1"{{!' checked' if form.get('stamp_pdfs') == '1' else ''}}> Stamp each buyer's name and email on every page of the PDFs</label>
      <p class="hint">Each buyer downloads their own copy; it is made the first time they download it.</p>
    </div>
    <div class="form-actions">
      <button class="button" type="submit">{{'Save changes' if product else 'Submit for review'}}</button>
      <a class="button button-secondary" href="/seller/products">Cancel</a>
    </div>
  </form>
  % if product:
  <h2>Previews</h2>
  <p class="muted">Up to 4 images customers see before they buy. For a PDF, its first page is shown too, drawn for you.</p>
  % if errors.get('previews'):
  <p class="field-error">{{errors['previews']}}</p>
  % end
  % if get('previews'):
  <ul class="preview-list">
    % for preview in previews:
    <li>
      % if preview.url(480):
      <img src="{{preview.url(480)}}" alt="" width="160">
      % else:
      <span class="muted small">{{'Being processed' if preview.state == 'processing' else preview.error}}</span>
      % end
      % if preview.kind == 'image':
      <form method="post" action="/seller/products/{{product.id}}/previews/{{preview.id}}/delete" class="inline-form">
        <input type="hidden" name="csrf_token" value="{{csrf_token}}">
        <button class="button button-secondary button-small" type="submit">Remove</button>
      </form>
      % else:
      <span class="muted small">First page of the PDF</span>
      % end
    </li>
    % end
  </ul>
  % end
  <form method="post" enctype="multipart/form-data" action="/seller/products/{{product.id}}/previews" class="stack">
    <input type="hidden" name="csrf_token" value="{{csrf_token}}">
    <input type="file" name="previews" multiple accept="image/jpeg,image/png,image/webp,image/gif" aria-label="Preview images">
    <div class="form-actions"><button class="button button-secondary" type="submit">Add previews</button></div>
  </form>
  <h2>Updates for your buyers</h2>
  <p class="muted">Tell everyone who bought this product what is new (a new version of the files, a fix). They get an email and see it in their notifications.{{' It is sent once the product is approved.' if product.status != 'approved' else ''}}</p>
  <form method="post" action="/seller/products/{{product.id}}/updates" class="stack">
    <input type="hidden" name="csrf_token" value="{{csrf_token}}">
    % include('_field.tpl', name='message', label='Update', type='textarea', rows=4, value='', attrs='maxlength="5000"')
    <div class="form-actions"><button class="button" type="submit">Send to buyers</button></div>
  </form>
  % if get('updates'):
  <ul class="product-updates">
    % for update, progress in updates:
    <li><span class="muted small">{{update.created_at.strftime('%d %b %Y %H:%M')}} UTC</span> · {{update.message[:120]}}
      % if progress is None:
      <span class="badge">Waiting for approval</span>
      % else:
      <span class="badge">{{progress['processed']}} of {{progress['total']}} buyers · {{progress['progress']}}%</span>
      % end
    </li>
    % end
  </ul>
  % end
  % end
</section>
